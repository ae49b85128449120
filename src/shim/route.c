/*
 * app_stasis_broadcast - the C shim of the module's own claim route.
 *
 * Asterisk releases before 20.20 / 22.10 have no POST /ari/events/claim in
 * res_ari; there the module serves it on Asterisk's HTTP server. This file
 * only moves bytes: it reads the request the way res_ari reads one (form
 * fields, then a JSON body; Basic credentials; the CORS headers), hands it to
 * Rust (asb_http_claim), and writes the reply Rust decides on, in ARI's JSON
 * format. It also reads ari.conf through Asterisk's configuration API, checks
 * crypt(3) passwords and user ACLs with Asterisk's own functions, and tells
 * Rust when res_ari is loaded, reloaded or unloaded.
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include <errno.h>

#include "asterisk/acl.h"
#include "asterisk/config.h"
#include "asterisk/http.h"
#include "asterisk/json.h"
#include "asterisk/manager.h"
#include "asterisk/options.h"
#include "asterisk/stasis.h"
#include "asterisk/strings.h"
#include "asterisk/tcptls.h"
#include "asterisk/utils.h"

#include "asb_shim.h"

/* What the reply side needs of the request being served. */
struct session {
	struct ast_tcptls_session_instance *ser;
	enum ast_http_method method;
	int replied;
};

static int claim_callback(struct ast_tcptls_session_instance *ser, const struct ast_http_uri *urih,
	const char *uri, enum ast_http_method method, struct ast_variable *get_params,
	struct ast_variable *headers);

static struct ast_http_uri claim_uri = {
	.description = "StasisBroadcast claims (app_stasis_broadcast)",
	.uri = "ari/events/claim",
	.callback = claim_callback,
	.has_subtree = 0,
	.key = "app_stasis_broadcast",
};

int sb_http_link(void)
{
	return ast_http_uri_link(&claim_uri);
}

void sb_http_unlink(void)
{
	ast_http_uri_unlink(&claim_uri);
}

static enum sb_body_error body_error(void)
{
	switch (errno) {
	case EFBIG:
		return SB_BODY_TOO_LARGE;
	case ENOMEM:
		return SB_BODY_OUT_OF_MEMORY;
	case EIO:
		return SB_BODY_UNPARSABLE;
	default:
		return SB_BODY_OK;
	}
}

/* A field of a JSON body: *has says whether it is there; the value is NULL
 * when it is not a string (res_ari's generated parsers read it so too). */
static const char *body_field(struct ast_json *body, const char *name, int *has)
{
	struct ast_json *field = body ? ast_json_object_get(body, name) : NULL;

	*has = field != NULL;
	return field ? ast_json_string_get(field) : NULL;
}

static int claim_callback(struct ast_tcptls_session_instance *ser, const struct ast_http_uri *urih,
	const char *uri, enum ast_http_method method, struct ast_variable *get_params,
	struct ast_variable *headers)
{
	struct session session = { .ser = ser, .method = method };
	struct sb_http_request req = { .method = method, .session = &session };
	struct ast_variable *post_vars;
	struct ast_variable *v;
	struct ast_json *body = NULL;
	struct ast_http_auth *auth;
	const char **params;
	size_t n = 0;

	/* The body first, as res_ari reads it: form fields, else JSON. */
	post_vars = ast_http_get_post_vars(ser, headers);
	if (!post_vars) {
		req.body_error = body_error();
		if (req.body_error == SB_BODY_OK) {
			body = ast_http_get_json(ser, headers);
			if (!body) {
				req.body_error = body_error();
			}
		}
	}
	req.body_channel_id = body_field(body, "channelId", &req.has_body_channel_id);
	req.body_application = body_field(body, "application", &req.has_body_application);

	/* Form fields, then the query: the order res_ari merges them in. */
	for (v = post_vars; v; v = v->next) {
		n++;
	}
	for (v = get_params; v; v = v->next) {
		n++;
	}
	params = ast_calloc(2 * n + 1, sizeof(*params));
	if (params) {
		n = 0;
		for (v = post_vars; v; v = v->next) {
			params[n++] = v->name;
			params[n++] = v->value;
		}
		for (v = get_params; v; v = v->next) {
			params[n++] = v->name;
			params[n++] = v->value;
		}
		req.params = params;
		req.n_params = n / 2;
	} else {
		req.body_error = SB_BODY_OUT_OF_MEMORY;
	}

	auth = ast_http_get_auth(headers);
	if (auth) {
		req.basic_user = auth->userid;
		req.basic_password = auth->password;
	}
	/* res_ari compares these header names byte for byte; the last one counts. */
	for (v = headers; v; v = v->next) {
		if (!strcmp(v->name, "Origin")) {
			req.origin = v->value;
		} else if (!strcmp(v->name, "Access-Control-Request-Method")) {
			req.request_method = v->value;
		} else if (!strcmp(v->name, "Access-Control-Request-Headers")) {
			req.request_headers = v->value;
		}
	}
	req.fully_booted = ast_fully_booted ? 1 : 0;

	asb_http_claim(&req);
	if (!session.replied) {
		/* Rust failed before answering (it logged why). */
		sb_http_reply(&req, 500, "Internal Server Error", "", "Error processing request", 0, 0);
	}

	ao2_cleanup(auth);
	ast_free(params);
	ast_json_unref(body);
	ast_variables_destroy(post_vars);
	return 0;
}

void sb_http_reply(const struct sb_http_request *req, int status, const char *reason,
	const char *headers, const char *message, int pretty, int close)
{
	struct session *session = req->session;
	struct ast_str *head = ast_str_create(128);
	struct ast_str *out = ast_str_create(128);
	struct ast_json *json = NULL;

	if (session->replied) {
		ast_free(head);
		ast_free(out);
		return;
	}
	session->replied = 1;
	if (!head || !out) {
		ast_free(head);
		ast_free(out);
		ast_http_request_close_on_completion(session->ser);
		ast_http_error(session->ser, 500, "Server Error", "Out of memory");
		return;
	}
	if (close) {
		ast_http_request_close_on_completion(session->ser);
	}
	ast_str_set(&head, 0, "%s", S_OR(headers, ""));
	if (message) {
		json = ast_json_pack("{s: s}", "message", message);
		ast_str_append(&head, 0, "Content-type: application/json\r\n");
		if (!json || ast_json_dump_str_format(json, &out, pretty ? AST_JSON_PRETTY : AST_JSON_COMPACT)) {
			status = 500;
			reason = "Internal Server Error";
			ast_str_reset(out);
			ast_str_reset(head);
		}
		ast_json_unref(json);
	}
	/* ast_http_send takes both strings. */
	ast_http_send(session->ser, session->method, status, reason, head, out, 0, 0);
}

int sb_acl_append(struct ast_acl_list **list, const char *sense, const char *value)
{
	int error = 0;
	int named = 0;

	ast_append_acl(sense, value, list, &error, &named);
	return error ? -1 : 0;
}

void sb_acl_free(struct ast_acl_list *list)
{
	ast_free_acl_list(list);
}

int sb_acl_denies(struct ast_acl_list *list, const struct sb_http_request *req)
{
	struct session *session = req->session;

	return list && !ast_acl_list_is_empty(list)
		&& ast_apply_acl(list, &session->ser->remote_address, "ARI User ACL") == AST_SENSE_DENY;
}

int sb_crypt_validate(const char *password, const char *hash)
{
	return ast_crypt_validate(password, hash);
}

int sb_config_load(const char *file, void (*cb)(void *ctx, const char *category,
	const char *name, const char *value), void *ctx)
{
	struct ast_flags flags = { 0 };
	struct ast_config *cfg = ast_config_load2(file, "app_stasis_broadcast", flags);
	struct ast_category *cat = NULL;
	struct ast_variable *v;

	if (!cfg || cfg == CONFIG_STATUS_FILEINVALID) {
		return -1;
	}
	while ((cat = ast_category_browse_filtered(cfg, NULL, cat, NULL))) {
		if (ast_category_is_template(cat)) {
			continue;
		}
		cb(ctx, ast_category_get_name(cat), NULL, NULL);
		for (v = ast_category_first(cat); v; v = v->next) {
			cb(ctx, ast_category_get_name(cat), v->name, v->value);
		}
	}
	ast_config_destroy(cfg);
	return 0;
}

/*
 * res_ari's reloads: the loader publishes Load, Unload and Reload as manager
 * events; only those (Asterisk's generic manager message type) are let
 * through to the callback.
 */
static struct stasis_subscription *module_events;

static void module_event(void *data, struct stasis_subscription *sub, struct stasis_message *msg)
{
	struct ast_json_payload *payload;
	struct ast_json *json;
	const char *type;
	const char *module;
	const char *status;

	if (stasis_message_type(msg) != ast_manager_get_generic_type()) {
		return;
	}
	payload = stasis_message_data(msg);
	json = payload ? payload->json : NULL;
	type = ast_json_string_get(ast_json_object_get(json, "type"));
	module = ast_json_string_get(ast_json_object_get(ast_json_object_get(json, "event"), "Module"));
	status = ast_json_string_get(ast_json_object_get(ast_json_object_get(json, "event"), "Status"));
	if (type && module) {
		asb_module_event(type, module, status);
	}
}

int sb_watch_module_events(void)
{
	if (!ast_manager_get_generic_type()) {
		return -1;
	}
	module_events = stasis_subscribe(ast_manager_get_topic(), module_event, NULL);
	if (!module_events) {
		return -1;
	}
	stasis_subscription_accept_message_type(module_events, ast_manager_get_generic_type());
	stasis_subscription_set_filter(module_events, STASIS_SUBSCRIPTION_FILTER_SELECTIVE);
	return 0;
}

void sb_unwatch_module_events(void)
{
	/* Joins: no callback runs once this returns. */
	module_events = stasis_unsubscribe_and_join(module_events);
}
