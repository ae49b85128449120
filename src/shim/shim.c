/*
 * app_stasis_broadcast - the C shim.
 *
 * Only what C alone can express: the module-info block, Asterisk's macros
 * (ao2_ref, ast_channel_lock, ast_log, ast_frfree, AST_CLI_DEFINE ...),
 * variadic JSON packing, and the casts the optional API needs. No logic:
 * everything is decided in Rust (see include/asb_shim.h for the contract).
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include <dlfcn.h>

#include "asterisk/app.h"
#include "asterisk/astobj2.h"
#include "asterisk/channel.h"
#include "asterisk/cli.h"
#include "asterisk/datastore.h"
#include "asterisk/frame.h"
#include "asterisk/json.h"
#include "asterisk/logger.h"
#include "asterisk/module.h"
#include "asterisk/optional_api.h"
#include "asterisk/pbx.h"
#include "asterisk/res_prometheus.h"
#include "asterisk/stasis_app.h"
#include "asterisk/stasis_channels.h"
#include "asterisk/strings.h"
#include "asterisk/time.h"
#include "asterisk/utils.h"
#include "asterisk/xmldoc.h"

#include "asb_shim.h"

#ifndef OPTIONAL_API
#error "app_stasis_broadcast needs an Asterisk built with OPTIONAL_API (res_ari_events reaches it through it)"
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
	"can claim it.\n";

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

/* CLI: "stasis broadcast show" and "stasis broadcast stats". */
static char *cli_run(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a, int what)
{
	if (cmd == CLI_GENERATE) {
		/* The words are fixed; Asterisk completes them from e->command. */
		return NULL;
	}
	if (a->argc != e->args) {
		return CLI_SHOWUSAGE;
	}
	asb_cli(a->fd, what);
	return CLI_SUCCESS;
}

static char *cli_show(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	if (cmd == CLI_INIT) {
		e->command = "stasis broadcast show";
		e->usage =
			"Usage: stasis broadcast show\n"
			"       Lists the live broadcasts: channel, id, age, timeout, filter,\n"
			"       number of applications offered, state and winner.\n";
		return NULL;
	}
	return cli_run(e, cmd, a, 0);
}

static char *cli_stats(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	if (cmd == CLI_INIT) {
		e->command = "stasis broadcast stats";
		e->usage =
			"Usage: stasis broadcast stats\n"
			"       Shows StasisBroadcast counters since the module was loaded, and\n"
			"       claim latency (offer to winning claim) percentiles.\n";
		return NULL;
	}
	return cli_run(e, cmd, a, 1);
}

static struct ast_cli_entry cli_entries[] = {
	AST_CLI_DEFINE(cli_show, "List live StasisBroadcast broadcasts"),
	AST_CLI_DEFINE(cli_stats, "Show StasisBroadcast statistics"),
};

int sb_register_cli(void)
{
	return ast_cli_register_multiple(cli_entries, ARRAY_LEN(cli_entries));
}

void sb_unregister_cli(void)
{
	ast_cli_unregister_multiple(cli_entries, ARRAY_LEN(cli_entries));
}

void sb_cli_write(int fd, const char *text)
{
	ast_cli(fd, "%s", text);
}

/*
 * Metrics through res_prometheus, when it is loaded. Its functions are looked
 * up at run time: the module must load and work in an Asterisk without it, and
 * a weak reference would be fixed (to NULL) when this module is dlopen()ed,
 * which may be before res_prometheus exports its symbols.
 */
typedef int (*prometheus_register_fn)(struct prometheus_callback *);
typedef void (*prometheus_unregister_fn)(struct prometheus_callback *);

static void metrics_callback(struct ast_str **output)
{
	asb_metrics(output);
}

static struct prometheus_callback metrics = {
	.name = "app_stasis_broadcast",
	.callback_fn = metrics_callback,
};

static prometheus_unregister_fn metrics_unregister;

int sb_register_metrics(void)
{
	prometheus_register_fn reg;

	if (!ast_module_check("res_prometheus.so")) {
		return -1;
	}
	reg = (prometheus_register_fn) dlsym(RTLD_DEFAULT, "prometheus_callback_register");
	metrics_unregister = (prometheus_unregister_fn) dlsym(RTLD_DEFAULT, "prometheus_callback_unregister");
	if (!reg || !metrics_unregister || reg(&metrics)) {
		metrics_unregister = NULL;
		return -1;
	}
	return 0;
}

void sb_unregister_metrics(void)
{
	if (metrics_unregister) {
		metrics_unregister(&metrics);
		metrics_unregister = NULL;
	}
}

void sb_metrics_append(void *output, const char *text)
{
	ast_str_append((struct ast_str **) output, 0, "%s", text);
}

/*
 * A broadcast opened through the optional API (not by the application, which
 * always closes its own) is closed when its channel goes away, even if the
 * caller never calls stasis_app_broadcast_cleanup(). A datastore holds no
 * reference on its module: a channel may outlive an unload and call
 * watch_destroy afterwards, which is why the module pins itself in memory
 * (sb_pin_module) and asb_channel_gone does nothing once it is unloaded.
 */
static void watch_destroy(void *data)
{
	asb_channel_gone(data);
	ast_free(data);
}

static const struct ast_datastore_info watch_info = {
	.type = "app_stasis_broadcast",
	.destroy = watch_destroy,
};

int sb_watch_channel(struct ast_channel *chan)
{
	struct ast_datastore *ds;
	char *id;
	int res = 0;

	ast_channel_lock(chan);
	if (!ast_channel_datastore_find(chan, &watch_info, NULL)) {
		id = ast_strdup(ast_channel_uniqueid(chan));
		ds = id ? ast_datastore_alloc(&watch_info, NULL) : NULL;
		if (ds) {
			ds->data = id;
			if (ast_channel_datastore_add(chan, ds)) {
				ds->data = NULL;
				ast_datastore_free(ds);
				ds = NULL;
			}
		}
		if (!ds) {
			ast_free(id);
			res = -1;
		}
	}
	ast_channel_unlock(chan);
	return res;
}

struct ast_channel *sb_channel_ref(struct ast_channel *chan)
{
	return ast_channel_ref(chan);
}

void sb_channel_unref(struct ast_channel *chan)
{
	ast_channel_unref(chan);
}

int sb_channel_hanging_up(struct ast_channel *chan)
{
	/* A plain read of the flag, without the channel lock: a claim must never
	 * wait for the channel. The flag is set before Asterisk publishes the
	 * hangup request, so a claim that follows that event sees it. */
	return ast_channel_softhangup_internal_flag(chan) != 0;
}

struct ast_json *sb_call_broadcast_event(struct ast_channel *chan)
{
	struct ast_channel_snapshot *snapshot;
	struct ast_json *event;
	const char *caller;
	const char *called;

	/* One lock for a consistent snapshot, caller and extension. */
	ast_channel_lock(chan);
	snapshot = ao2_bump(ast_channel_snapshot(chan));
	caller = ast_strdupa(S_OR(ast_channel_caller(chan)->id.number.str, ""));
	called = ast_strdupa(S_OR(ast_channel_exten(chan), ""));
	ast_channel_unlock(chan);

	if (!snapshot) {
		return NULL;
	}
	/* "o" steals the references, also when packing fails. */
	event = ast_json_pack("{s: s, s: o, s: o, s: s, s: s}",
		"type", "CallBroadcast",
		"timestamp", ast_json_timeval(ast_tvnow(), NULL),
		"channel", ast_channel_snapshot_to_json(snapshot, NULL),
		"caller", caller,
		"called", called);
	ao2_ref(snapshot, -1);
	return event;
}

struct ast_json *sb_call_claimed_event(const char *channel_id, const char *winner_app)
{
	struct ast_channel_snapshot *snapshot;
	struct ast_json *event;

	snapshot = ast_channel_snapshot_get_latest(channel_id);
	if (!snapshot) {
		return NULL;
	}
	event = ast_json_pack("{s: s, s: o, s: o, s: s}",
		"type", "CallClaimed",
		"timestamp", ast_json_timeval(ast_tvnow(), NULL),
		"channel", ast_channel_snapshot_to_json(snapshot, NULL),
		"winner_app", winner_app);
	ao2_ref(snapshot, -1);
	return event;
}

int sb_for_each_app(void (*cb)(void *ctx, const char *name), void *ctx)
{
	struct ao2_container *apps = stasis_app_get_all();
	struct ao2_iterator it;
	char *name;

	if (!apps) {
		return -1;
	}
	it = ao2_iterator_init(apps, 0);
	while ((name = ao2_iterator_next(&it))) {
		cb(ctx, name);
		ao2_ref(name, -1);
	}
	ao2_iterator_destroy(&it);
	ao2_ref(apps, -1);
	return 0;
}

void sb_frame_free(struct ast_frame *frame)
{
	ast_frfree(frame);
}

struct ast_frame *sb_frame_dup(const struct ast_frame *frame)
{
	return ast_frdup(frame);
}

int sb_frame_is_hangup(const struct ast_frame *frame)
{
	return frame->frametype == AST_FRAME_CONTROL && frame->subclass.integer == AST_CONTROL_HANGUP;
}

struct ast_frame *sb_frame_hangup(void)
{
	struct ast_frame f = { AST_FRAME_CONTROL, .subclass.integer = AST_CONTROL_HANGUP };

	return ast_frdup(&f);
}

char *sb_strdup(const char *s)
{
	return ast_strdup(s);
}

int sb_pin_module(void)
{
	static void *self;
	Dl_info info;

	if (self) {
		return 0;
	}
	if (!dladdr((void *) sb_pin_module, &info) || !info.dli_fname) {
		return -1;
	}
	/* A reference of our own, never closed, on the object already loaded:
	 * the loader's dlclose() leaves it mapped, and RTLD_NODELETE says so. */
	self = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
	return self ? 0 : -1;
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
