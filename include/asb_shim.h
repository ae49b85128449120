/*
 * app_stasis_broadcast - the C shim's interface.
 *
 * What only C can express (the module-info block, Asterisk's macros such as
 * ao2_ref/ast_channel_lock/ast_log, variadic JSON packing, casts to
 * ast_optional_fn) lives in the C files of src/shim/, behind these plain
 * functions. Rust sees them through bindgen; the shim sees the Rust entry
 * points declared at the end.
 *
 * SPDX-License-Identifier: GPL-2.0-only
 */

#ifndef ASB_SHIM_H
#define ASB_SHIM_H

#include <stddef.h>

struct ast_channel;
struct ast_json;
struct ast_frame;
struct ast_cli_args;
struct sb_hold;

/* Log levels understood by sb_log(). */
enum sb_log_level {
	SB_LOG_ERROR = 0,
	SB_LOG_WARNING = 1,
	SB_LOG_NOTICE = 2,
	SB_LOG_VERBOSE = 3,
	SB_LOG_DEBUG = 4,
};

/*! Logs one preformatted message (never used as a format string).
 * For SB_LOG_VERBOSE and SB_LOG_DEBUG, \a verbosity is the level at which it shows. */
void sb_log(int level, int verbosity, const char *file, int line, const char *func, const char *msg);

/*! Non-zero when a message at this level would be shown: lets callers skip
 * formatting debug and verbose messages nobody will see. */
int sb_log_enabled(int level, int verbosity);

/*! Registers the StasisBroadcast application (exec goes to asb_exec). 0 on success. */
int sb_register_app(void);
/*! Unregisters it. 0 on success. */
int sb_unregister_app(void);
/*! Non-zero when a dialplan application of this name is registered. */
int sb_app_registered(const char *name);
/*! Non-zero when the named module (e.g. "res_stasis_broadcast.so") is loaded. */
int sb_module_loaded(const char *name);

/*! Becomes the implementation of the five stasis_app_broadcast.h functions. */
void sb_provide_api(void);
/*! Stops being it. */
void sb_unprovide_api(void);

/*! Registers / unregisters the module's CLI commands. 0 on success. */
int sb_register_cli(void);
void sb_unregister_cli(void);
/*! Appends text to a CLI command's output. */
void sb_cli_write(int fd, const char *text);

/*! Registers the module's metrics with res_prometheus, if that is loaded. 0 when registered. */
int sb_register_metrics(void);
void sb_unregister_metrics(void);
/*! Appends text to res_prometheus' output (\a output is its struct ast_str **). */
void sb_metrics_append(void *output, const char *text);

/*! The CallBroadcast event for \a chan (snapshot, caller, called), built under
 * the channel lock. New reference, or NULL on allocation failure. */
struct ast_json *sb_call_broadcast_event(struct ast_channel *chan);
/*! The CallClaimed event for a channel id and its winner. New reference or NULL. */
struct ast_json *sb_call_claimed_event(const char *channel_id, const char *winner_app);

/*! Calls \a cb once per registered Stasis application name. -1 if the list
 * could not be had. */
int sb_for_each_app(void (*cb)(void *ctx, const char *name), void *ctx);

/*! A new reference on a channel / drops one. */
struct ast_channel *sb_channel_ref(struct ast_channel *chan);
void sb_channel_unref(struct ast_channel *chan);
/*! Non-zero once the channel is asked to hang up (lock-free read). */
int sb_channel_hanging_up(struct ast_channel *chan);

/*! Makes sure asb_channel_gone(uniqueid) runs when \a chan is destroyed (once
 * per channel, however often it is called). 0 on success. */
int sb_watch_channel(struct ast_channel *chan);

/*! Frame helpers over Asterisk's macros. */
void sb_frame_free(struct ast_frame *frame);
/*! 1 when the frame is a hangup control frame. */
int sb_frame_is_hangup(const struct ast_frame *frame);
/*! A new hangup control frame, as a channel driver's read returns one (fault
 * injection in test builds). NULL on allocation failure. */
struct ast_frame *sb_frame_hangup(void);

/*! Frames a waiting channel must not lose (DTMF, text, control frames other
 * than a hangup: see src/shim/hold.c) are kept, unprocessed, from this call on
 * instead of reaching the reader. NULL when that could not be arranged. */
struct sb_hold *sb_hold_attach(struct ast_channel *chan);
/*! Stops keeping them and, with \a requeue, puts the kept frames back at the
 * head of the channel's read queue in their order (else frees them). Ends
 * \a hold. Returns how many frames went past the bound on kept frames. */
size_t sb_hold_release(struct ast_channel *chan, struct sb_hold *hold, int requeue);

/*! Keeps this module's shared object mapped until the process exits, so that
 * no thread can run unmapped code after an unload (a later load starts the
 * resident module again). Idempotent. 0 on success. */
int sb_pin_module(void);
/*! The path the loader opened this module's shared object from (owned by the
 * dynamic linker, valid while the object is mapped), or NULL. */
const char *sb_module_path(void);
/*! Takes the loader's shutdown reference on this module (ast_module_shutdown_ref):
 * from then on only a forced unload or Asterisk's shutdown unloads it. */
void sb_hold_until_shutdown(void);
/*! Non-zero once Asterisk has begun shutting down. */
int sb_shutting_down(void);
/*! The running Asterisk's version (ast_get_version()), e.g. "22.10.1". */
const char *sb_asterisk_version(void);

/*! A copy of \a s in Asterisk's allocator (for callers that ast_free() it). */
char *sb_strdup(const char *s);

/*
 * The module's own claim route (src/shim/route.c), for Asterisk releases whose
 * res_ari has no POST /ari/events/claim.
 */

/*! How reading a request's body ended (res_ari answers 413, 400, 500). */
enum sb_body_error {
	SB_BODY_OK = 0,
	SB_BODY_TOO_LARGE = 1,
	SB_BODY_UNPARSABLE = 2,
	SB_BODY_OUT_OF_MEMORY = 3,
};

/*! One request to the route, read as res_ari reads it. Every pointer is
 * borrowed for the duration of asb_http_claim() and may be NULL. */
struct sb_http_request {
	/*! enum ast_http_method (GET 0, POST 1, HEAD 2, PUT 3, DELETE 4, OPTIONS 5). */
	int method;
	/*! Form fields, then query parameters: name, value, name, value, ... */
	const char *const *params;
	size_t n_params;
	/*! HTTP Basic credentials. */
	const char *basic_user;
	const char *basic_password;
	/*! The Origin, Access-Control-Request-Method and -Headers headers. */
	const char *origin;
	const char *request_method;
	const char *request_headers;
	/*! enum sb_body_error. */
	int body_error;
	/*! A JSON body's fields: has_* says whether the field is there; the
	 * value is NULL when it is not a string. */
	int has_body_channel_id;
	const char *body_channel_id;
	int has_body_application;
	const char *body_application;
	/*! Non-zero once Asterisk is fully booted. */
	int fully_booted;
	/*! The shim's own; for sb_http_reply() and sb_acl_denies(). */
	void *session;
};

/*! Links / unlinks the route on Asterisk's HTTP server. 0 on success. */
int sb_http_link(void);
void sb_http_unlink(void);
/*! Answers the request (once; later calls are ignored). \a headers are extra
 * header lines ending in CRLF; \a message, when not NULL, becomes the body
 * {"message": ...} in ARI's compact or (\a pretty) pretty JSON. \a close:
 * the connection closes once answered. */
void sb_http_reply(const struct sb_http_request *req, int status, const char *reason,
	const char *headers, const char *message, int pretty, int close);
/*
 * A user's ACL list, as res_ari builds one (Asterisk's own functions):
 * sb_acl_append() is ast_append_acl() on *list (NULL: a new list), 0 on
 * success, -1 when Asterisk reports an error for the line; sb_acl_free()
 * frees the list (NULL is fine); sb_acl_denies() is non-zero when the list
 * (not empty) refuses the request's peer, as res_ari applies it.
 */
struct ast_acl_list;
int sb_acl_append(struct ast_acl_list **list, const char *sense, const char *value);
void sb_acl_free(struct ast_acl_list *list);
int sb_acl_denies(struct ast_acl_list *list, const struct sb_http_request *req);
/*! Non-zero when the loader has the module \a name running (loaded, and not
 * declined). Takes the loader's (recursive) lock. */
int sb_module_running(const char *name);
/*! ast_crypt_validate(): non-zero when \a password matches the crypt(3) \a hash. */
int sb_crypt_validate(const char *password, const char *hash);
/*! Reads a configuration file through Asterisk's config API: \a cb runs once
 * per category (name and value NULL), then once per variable of it; template
 * categories are skipped. -1 when the file is missing or invalid. */
int sb_config_load(const char *file, void (*cb)(void *ctx, const char *category,
	const char *name, const char *value), void *ctx);
/*! Calls asb_module_event() for each module Load, Unload and Reload. 0 on success. */
int sb_watch_module_events(void);
/*! Stops that; no callback runs once it returns. */
void sb_unwatch_module_events(void);

/*
 * Implemented in Rust (src/entry.rs). Every one catches panics.
 */
int asb_load(void);
int asb_unload(void);
int asb_reload(void);
int asb_exec(struct ast_channel *chan, const char *data);
int asb_api_broadcast_channel(struct ast_channel *chan, int timeout_ms, const char *app_filter,
	unsigned int flags);
int asb_api_claim_channel(const char *channel_id, const char *app_name);
char *asb_api_broadcast_winner(const char *channel_id);
int asb_api_broadcast_wait(struct ast_channel *chan, int timeout_ms);
void asb_api_broadcast_cleanup(const char *channel_id);
/*! A watched channel is being destroyed: close its broadcast, if any. */
void asb_channel_gone(const char *channel_id);
/*! res_prometheus' scrape: append the metrics with sb_metrics_append(output, ...). */
void asb_metrics(void *output);
/*! Which CLI command asb_cli() runs. */
enum sb_cli_command {
	SB_CLI_SHOW = 0,
	SB_CLI_STATS = 1,
	SB_CLI_ENABLE = 2,
	SB_CLI_DISABLE = 3,
};
/*! CLI handlers: write their output with sb_cli_write(). \a what: an sb_cli_command. */
void asb_cli(int fd, int what);
/*! A request to the module's claim route: answers it with sb_http_reply(). */
void asb_http_claim(const struct sb_http_request *req);
/*! The loader loaded, unloaded or reloaded a module (\a type "Load",
 * "Unload" or "Reload"; \a module as the loader names it, or "All"). */
void asb_module_event(const char *type, const char *module, const char *status);

#endif /* ASB_SHIM_H */
