/*
 * app_stasis_broadcast - the C shim: the frames a waiting channel holds.
 *
 * While StasisBroadcast waits it reads the channel, so that media does not
 * pile up. But ast_read() does more than hand over a frame: for a DTMF end it
 * publishes ChannelDtmfReceived (to AMI, subscribeAll applications, CDRs) and
 * runs DTMF emulation; for some control frames it acts on them. A frame read,
 * then queued again, would be processed twice; one read and dropped would be
 * lost (a caller who presses 1 at "press 1 for sales" while the pool decides).
 *
 * So a framehook is attached for the wait. It sees every frame ast_read()
 * takes, before ast_read() processes it, and keeps a copy of each frame the
 * wait does not own: DTMF, text, and the control frames and others that
 * ast_is_deferrable_frame() says must not be lost, except a hangup, which the
 * wait acts on. ast_read() then returns a null frame for it. When the wait
 * ends, the hook goes and the kept frames go back to the head of the read
 * queue in their order, untouched: the next reader (the winner's Stasis
 * session, or the dialplan after TIMEOUT) gets them as if nothing had read
 * the channel, as with Asterisk's own StasisBroadcast, which does not read.
 *
 * Copyright (C) 2026, the app_stasis_broadcast developers
 * SPDX-License-Identifier: GPL-2.0-only
 */

#include "asterisk.h"

#include "asterisk/astobj2.h"
#include "asterisk/channel.h"
#include "asterisk/frame.h"
#include "asterisk/framehook.h"
#include "asterisk/linkedlists.h"
#include "asterisk/utils.h"

#include "asb_shim.h"

/* More than this many frames kept in one wait are let through to the wait,
 * which drops them: a bound on memory for a channel flooded with them. */
#define SB_HOLD_MAX 256

/*
 * An ao2 object: one reference is the wait's (sb_hold_attach to
 * sb_hold_release), one the framehook's (to its destroy callback), so that a
 * hook destroyed early (a masquerade destroys hooks that are not inherited)
 * leaves the wait nothing dangling. Its fields change only under the lock of
 * the channel the hook is on.
 */
struct sb_hold {
	/*! The kept frames, oldest first (copies, ours to free). */
	AST_LIST_HEAD_NOLOCK(, ast_frame) frames;
	size_t count;
	/*! Frames over SB_HOLD_MAX, let through. */
	size_t over;
	/*! The framehook's id on the channel. */
	int id;
	/*! Set once the framehook is destroyed: nothing to detach. */
	int gone;
};

static int keeps(const struct ast_frame *f)
{
	switch (f->frametype) {
	case AST_FRAME_DTMF_BEGIN:
	case AST_FRAME_DTMF_END:
		return 1;
	case AST_FRAME_CONTROL:
		if (f->subclass.integer == AST_CONTROL_HANGUP) {
			return 0;
		}
		break;
	default:
		break;
	}
	return ast_is_deferrable_frame(f);
}

/* Runs inside ast_read(), with the channel locked. */
static struct ast_frame *hold_event(struct ast_channel *chan, struct ast_frame *f,
	enum ast_framehook_event event, void *data)
{
	struct sb_hold *hold = data;
	struct ast_frame *copy;

	if (event != AST_FRAMEHOOK_EVENT_READ || !f || !keeps(f)) {
		return f;
	}
	if (hold->count >= SB_HOLD_MAX) {
		hold->over++;
		return f;
	}
	copy = ast_frdup(f);
	if (!copy) {
		return f;
	}
	AST_LIST_INSERT_TAIL(&hold->frames, copy, frame_list);
	hold->count++;
	/* A different frame is returned: the original is ours to free. */
	ast_frfree(f);
	return &ast_null_frame;
}

static void free_frames(struct sb_hold *hold)
{
	struct ast_frame *f;

	while ((f = AST_LIST_REMOVE_HEAD(&hold->frames, frame_list))) {
		ast_frfree(f);
	}
	hold->count = 0;
}

static void hold_dtor(void *obj)
{
	free_frames(obj);
}

/* The framehook is destroyed: on the channel's next frame after the detach,
 * with the channel, or in a masquerade. */
static void hold_destroy(void *data)
{
	struct sb_hold *hold = data;

	hold->gone = 1;
	ao2_ref(hold, -1);
}

struct sb_hold *sb_hold_attach(struct ast_channel *chan)
{
	struct sb_hold *hold = ao2_alloc_options(sizeof(*hold), hold_dtor, AO2_ALLOC_OPT_LOCK_NOLOCK);
	struct ast_framehook_interface hook = {
		.version = AST_FRAMEHOOK_INTERFACE_VERSION,
		.event_cb = hold_event,
		.destroy_cb = hold_destroy,
		.disable_inheritance = 1,
	};

	if (!hold) {
		return NULL;
	}
	/* The framehook's reference. */
	hook.data = ao2_bump(hold);
	ast_channel_lock(chan);
	hold->id = ast_framehook_attach(chan, &hook);
	ast_channel_unlock(chan);
	if (hold->id < 0) {
		/* Not attached: no destroy callback will drop it. */
		ao2_ref(hold, -2);
		return NULL;
	}
	return hold;
}

size_t sb_hold_release(struct ast_channel *chan, struct sb_hold *hold, int requeue)
{
	AST_LIST_HEAD_NOLOCK(, ast_frame) frames = AST_LIST_HEAD_NOLOCK_INIT_VALUE;
	struct ast_frame *f;
	size_t over;

	/* Under the channel lock the hook sees no frame: take its frames, then
	 * detach it (it is destroyed later, without them). */
	ast_channel_lock(chan);
	AST_LIST_APPEND_LIST(&frames, &hold->frames, frame_list);
	hold->count = 0;
	over = hold->over;
	if (!hold->gone) {
		ast_framehook_detach(chan, hold->id);
	}
	ast_channel_unlock(chan);
	ao2_ref(hold, -1);

	/* Queueing at the head reverses order: newest first. */
	if (requeue) {
		struct ast_frame *stack = NULL;

		while ((f = AST_LIST_REMOVE_HEAD(&frames, frame_list))) {
			AST_LIST_NEXT(f, frame_list) = stack;
			stack = f;
		}
		while ((f = stack)) {
			stack = AST_LIST_NEXT(f, frame_list);
			AST_LIST_NEXT(f, frame_list) = NULL;
			ast_queue_frame_head(chan, f);
			ast_frfree(f);
		}
	} else {
		while ((f = AST_LIST_REMOVE_HEAD(&frames, frame_list))) {
			ast_frfree(f);
		}
	}
	return over;
}
