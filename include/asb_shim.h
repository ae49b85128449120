/*
 * app_stasis_broadcast - the C shim's interface.
 *
 * What only C can express (the module-info block, Asterisk's macros such as
 * ao2_ref/ast_channel_lock/ast_log, variadic JSON packing, casts to
 * ast_optional_fn) lives in src/shim/shim.c, behind these plain functions.
 * Rust sees them through bindgen; the shim sees the Rust entry points
 * declared at the end.
 *
 * SPDX-License-Identifier: GPL-2.0-only
 */

#ifndef ASB_SHIM_H
#define ASB_SHIM_H

struct ast_channel;
struct ast_json;
struct ast_frame;
struct ast_cli_args;

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
struct ast_frame *sb_frame_dup(const struct ast_frame *frame);
/*! 1 when the frame is a hangup control frame. */
int sb_frame_is_hangup(const struct ast_frame *frame);
/*! A new hangup control frame, as a channel driver's read returns one (fault
 * injection in test builds). NULL on allocation failure. */
struct ast_frame *sb_frame_hangup(void);

/*! Keeps this module's shared object mapped until the process exits, so that
 * no thread can run unmapped code after an unload (a later load starts the
 * resident module again). Idempotent. 0 on success. */
int sb_pin_module(void);

/*! A copy of \a s in Asterisk's allocator (for callers that ast_free() it). */
char *sb_strdup(const char *s);

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
/*! CLI handlers: write their output with sb_cli_write(). \a what: 0 show, 1 stats. */
void asb_cli(int fd, int what);

#endif /* ASB_SHIM_H */
