/*
 * app_stasis_broadcast - the C shim: channels and what is sent about them.
 * References and the hangup flag (macros), the datastore that reports a
 * channel's end, the CallBroadcast / CallClaimed events (variadic JSON
 * packing), the list of ARI applications, and frames.
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include "asterisk/astobj2.h"
#include "asterisk/channel.h"
#include "asterisk/datastore.h"
#include "asterisk/frame.h"
#include "asterisk/json.h"
#include "asterisk/stasis_app.h"
#include "asterisk/stasis_channels.h"
#include "asterisk/strings.h"
#include "asterisk/time.h"
#include "asterisk/utils.h"

#include "asb_shim.h"

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

int sb_frame_is_hangup(const struct ast_frame *frame)
{
	return frame->frametype == AST_FRAME_CONTROL && frame->subclass.integer == AST_CONTROL_HANGUP;
}

struct ast_frame *sb_frame_hangup(void)
{
	struct ast_frame f = { AST_FRAME_CONTROL, .subclass.integer = AST_CONTROL_HANGUP };

	return ast_frdup(&f);
}
