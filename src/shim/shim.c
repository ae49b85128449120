/*
 * app_stasis_broadcast - the C shim.
 *
 * Only what C alone can express: the module-info block, Asterisk's macros
 * (ao2_ref, ast_channel_lock, ast_log, ast_frfree, AST_CLI_DEFINE ...),
 * variadic JSON packing, and the casts the optional API needs. No logic:
 * everything is decided in Rust (see include/asb_shim.h for the contract).
 *
 * This file: the module-info block, logging, the dialplan application and
 * the optional API. Beside it: channel.c (channels, events, frames),
 * cli_metrics.c (CLI and Prometheus metrics) and route.c (the claim route on
 * releases without Asterisk's own).
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include <dlfcn.h>

#include "asterisk/ast_version.h"
#include "asterisk/logger.h"
#include "asterisk/module.h"
#include "asterisk/optional_api.h"
#include "asterisk/pbx.h"
#include "asterisk/strings.h"
#include "asterisk/utils.h"
#include "asterisk/xmldoc.h"

#include "asb_shim.h"

#ifndef OPTIONAL_API
#error "app_stasis_broadcast needs an Asterisk built with OPTIONAL_API (res_ari_events reaches it through it)"
#endif

/*
 * With --enable-permanent-dlopen (for libcs such as musl), the loader frees a module's record when
 * it unloads it, while StasisBroadcast stays registered (see entry.rs: unregistering it while calls
 * start it is unsafe) and Asterisk's PBX goes on using the application's pointer to that record. A
 * runtime unload is refused (the shutdown reference below), but `module unload -h` carries one out
 * anyway: no build for such an Asterisk.
 */
#ifdef HAVE_PERMANENT_DLOPEN
#error "app_stasis_broadcast cannot be built for an Asterisk configured with --enable-permanent-dlopen: its loader frees a module's record on unload while StasisBroadcast stays registered. Use an Asterisk built without that option."
#endif

static const char app_name[] = "StasisBroadcast";

static const char app_synopsis[] =
	"Offer a call to many ARI applications at once; the first to claim it gets it in Stasis.";

static const char app_description[] =
	"StasisBroadcast([timeout[,app_filter[,args[,notify_claimed]]]])\n"
	"\n"
	"Sends a CallBroadcast event to every registered ARI application whose name\n"
	"matches app_filter (all of them when it is empty). The first application to\n"
	"POST /ari/events/claim?channelId=<id>&application=<its name> wins; the channel\n"
	"then enters Stasis() in that application exactly as Stasis(winner,args...)\n"
	"would. Later claims get 409. With no claim in time, the dialplan goes on.\n"
	"\n"
	"  timeout        - ms to wait for a claim, 0-60000 (default 500).\n"
	"  app_filter     - regular expression over application names, unanchored;\n"
	"                   matched in linear time. A filter that does not compile\n"
	"                   offers the call to nobody (STASISSTATUS=FAILED).\n"
	"  args           - colon-delimited arguments for the winner's StasisStart.\n"
	"  notify_claimed - a true value sends CallClaimed to the matching\n"
	"                   applications once the call is claimed (default no).\n"
	"\n"
	"Sets STASISSTATUS to SUCCESS (claimed, Stasis ran), FAILED (claimed but Stasis\n"
	"failed, or the broadcast could not start) or TIMEOUT (no claim in time, or the\n"
	"caller hung up while waiting). Only applications that were offered the call\n"
	"can claim it. After 'stasis broadcast disable' new calls get FAILED at once\n"
	"and STASISBROADCAST_REASON=DISABLED (calls already waiting go on).\n";

void sb_log(int level, int verbosity, const char *file, int line, const char *func, const char *msg)
{
	switch (level) {
	case SB_LOG_ERROR:
		ast_log(__LOG_ERROR, file, line, func, "%s\n", msg);
		break;
	case SB_LOG_WARNING:
		ast_log(__LOG_WARNING, file, line, func, "%s\n", msg);
		break;
	case SB_LOG_NOTICE:
		ast_log(__LOG_NOTICE, file, line, func, "%s\n", msg);
		break;
	case SB_LOG_VERBOSE:
		if (VERBOSITY_ATLEAST(verbosity)) {
			__ast_verbose(file, line, func, verbosity, "%s\n", msg);
		}
		break;
	default:
		if (DEBUG_ATLEAST(verbosity)) {
			ast_log(__LOG_DEBUG, file, line, func, "%s\n", msg);
		}
		break;
	}
}

int sb_log_enabled(int level, int verbosity)
{
	switch (level) {
	case SB_LOG_VERBOSE:
		return VERBOSITY_ATLEAST(verbosity);
	case SB_LOG_DEBUG:
		return DEBUG_ATLEAST(verbosity);
	default:
		return 1;
	}
}

static int exec_trampoline(struct ast_channel *chan, const char *data)
{
	return asb_exec(chan, data);
}

/*
 * Asterisk takes an application's documentation from its XML documentation only when both strings
 * passed at registration are empty, and then whatever it finds under the application's name wins:
 * Asterisk 22.7+ ships core-en_US.xml with its own StasisBroadcast, which describes upstream's
 * behaviour, not ours. So the XML is used only when the synopsis it holds for StasisBroadcast is
 * ours, i.e. doc/app_stasis_broadcast-en_US.xml was installed before Asterisk read its
 * documentation; otherwise the built-in strings are registered.
 */
static int xml_docs_are_ours(void)
{
#ifdef AST_XML_DOCS
	char *found = ast_xmldoc_build_synopsis("application", app_name, AST_MODULE);
	int ours = found && !strcmp(ast_strip(found), app_synopsis);

	ast_free(found);
	return ours;
#else
	return 0;
#endif
}

int sb_register_app(void)
{
	if (xml_docs_are_ours()) {
		return ast_register_application_xml(app_name, exec_trampoline);
	}
	return ast_register_application(app_name, exec_trampoline, app_synopsis, app_description);
}

int sb_unregister_app(void)
{
	return ast_unregister_application(app_name);
}

int sb_app_registered(const char *name)
{
	return pbx_findapp(name) != NULL;
}

int sb_module_loaded(const char *name)
{
	return ast_module_check(name);
}

/* The loader's list says "Running" only for a module that loaded and did not
 * decline (ast_module_check counts a declined one too). */
static int running_entry(const char *module, const char *description, int usecnt,
	const char *status, const char *like, enum ast_module_support_level support_level,
	void *data)
{
	const char *name = data;

	return !strcasecmp(module, name) && !strcmp(status, "Running");
}

int sb_module_running(const char *name)
{
	return ast_update_module_list_data(running_entry, NULL, (void *) name) > 0;
}

/*
 * The optional API: the five functions of asterisk/stasis_app_broadcast.h.
 * The typedefs repeat the header's prototypes so that a mismatch with the
 * Rust implementations is a compile error here rather than a crash there.
 */
typedef int (*broadcast_channel_fn)(struct ast_channel *, int, const char *, unsigned int);
typedef int (*claim_channel_fn)(const char *, const char *);
typedef char *(*broadcast_winner_fn)(const char *);
typedef int (*broadcast_wait_fn)(struct ast_channel *, int);
typedef void (*broadcast_cleanup_fn)(const char *);

static const struct {
	const char *name;
	ast_optional_fn impl;
} api[] = {
	{ "stasis_app_broadcast_channel",
		(ast_optional_fn) (broadcast_channel_fn) asb_api_broadcast_channel },
	{ "stasis_app_claim_channel", (ast_optional_fn) (claim_channel_fn) asb_api_claim_channel },
	{ "stasis_app_broadcast_winner",
		(ast_optional_fn) (broadcast_winner_fn) asb_api_broadcast_winner },
	{ "stasis_app_broadcast_wait", (ast_optional_fn) (broadcast_wait_fn) asb_api_broadcast_wait },
	{ "stasis_app_broadcast_cleanup",
		(ast_optional_fn) (broadcast_cleanup_fn) asb_api_broadcast_cleanup },
};

void sb_provide_api(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(api); i++) {
		ast_optional_api_provide(api[i].name, api[i].impl);
	}
}

void sb_unprovide_api(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(api); i++) {
		ast_optional_api_unprovide(api[i].name, api[i].impl);
	}
}

char *sb_strdup(const char *s)
{
	return ast_strdup(s);
}

const char *sb_module_path(void)
{
	Dl_info info;

	if (!dladdr((void *) sb_module_path, &info)) {
		return NULL;
	}
	return info.dli_fname;
}

int sb_pin_module(void)
{
	static void *self;
	const char *path;

	if (self) {
		return 0;
	}
	path = sb_module_path();
	if (!path) {
		return -1;
	}
	/* A reference of our own, never closed, on the object already loaded:
	 * the loader's dlclose() leaves it mapped, and RTLD_NODELETE says so. */
	self = dlopen(path, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
	return self ? 0 : -1;
}

void sb_hold_until_shutdown(void)
{
	/* One use count the loader drops only when Asterisk shuts down: a plain
	 * `module unload` or `module refresh` is refused with that count, as for
	 * res_pjsip_session; -f and -h still call unload. Idempotent. */
	ast_module_shutdown_ref(AST_MODULE_SELF);
}

int sb_shutting_down(void)
{
	return ast_shutting_down();
}

const char *sb_asterisk_version(void)
{
	return ast_get_version();
}

static int load_module(void)
{
	return asb_load();
}

static int unload_module(void)
{
	return asb_unload();
}

static int reload_module(void)
{
	return asb_reload();
}

/* Where the module serves the claim route itself, res_ari (when it loads at
 * all) loads first, so that the route is there from the start. */
#ifdef ASB_OWN_CLAIM_ROUTE
#define OPTIONAL_MODULES "res_prometheus,res_ari"
#else
#define OPTIONAL_MODULES "res_prometheus"
#endif

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_DEFAULT,
	"StasisBroadcast: offer calls to many ARI applications, first claim wins",
	.support_level = AST_MODULE_SUPPORT_EXTENDED,
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.requires = "res_stasis",
	.optional_modules = OPTIONAL_MODULES,
);
