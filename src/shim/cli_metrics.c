/*
 * app_stasis_broadcast - the C shim: what an operator sees. The CLI commands
 * ("stasis broadcast show", "stasis broadcast stats") and the Prometheus
 * metrics, both written by Rust (asb_cli, asb_metrics); here only Asterisk's
 * CLI macros and res_prometheus, looked up at run time.
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include <dlfcn.h>

#include "asterisk/cli.h"
#include "asterisk/module.h"
#include "asterisk/res_prometheus.h"
#include "asterisk/strings.h"
#include "asterisk/utils.h"

#include "asb_shim.h"

/* CLI: "stasis broadcast show|stats|enable|disable". */
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
			"       Whether new calls are offered (enabled or disabled), then the live\n"
			"       broadcasts: channel, id, age, timeout, filter, number of applications\n"
			"       offered, state and winner. Warns when the module file on disk is not\n"
			"       the build that runs.\n";
		return NULL;
	}
	return cli_run(e, cmd, a, SB_CLI_SHOW);
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
	return cli_run(e, cmd, a, SB_CLI_STATS);
}

static char *cli_enable(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	if (cmd == CLI_INIT) {
		e->command = "stasis broadcast enable";
		e->usage =
			"Usage: stasis broadcast enable\n"
			"       StasisBroadcast offers new calls again (after stasis broadcast disable).\n";
		return NULL;
	}
	return cli_run(e, cmd, a, SB_CLI_ENABLE);
}

static char *cli_disable(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	if (cmd == CLI_INIT) {
		e->command = "stasis broadcast disable";
		e->usage =
			"Usage: stasis broadcast disable\n"
			"       StasisBroadcast stops offering new calls: each one returns at once with\n"
			"       STASISSTATUS=FAILED and STASISBROADCAST_REASON=DISABLED, while the calls\n"
			"       already waiting finish normally. The drain switch before a restart;\n"
			"       stasis broadcast enable undoes it.\n";
		return NULL;
	}
	return cli_run(e, cmd, a, SB_CLI_DISABLE);
}

static struct ast_cli_entry cli_entries[] = {
	AST_CLI_DEFINE(cli_show, "List live StasisBroadcast broadcasts"),
	AST_CLI_DEFINE(cli_stats, "Show StasisBroadcast statistics"),
	AST_CLI_DEFINE(cli_enable, "Let StasisBroadcast offer new calls"),
	AST_CLI_DEFINE(cli_disable, "Stop StasisBroadcast offering new calls"),
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
