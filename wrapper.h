/*
 * What bindgen sees: Asterisk's own headers (from ASTERISK_INCLUDE_DIR) for
 * the functions and types the Rust layer calls directly, and the shim's
 * interface for everything that is a macro in C. build.rs allowlists the
 * names; nothing else of Asterisk is bound.
 */
#include "asterisk.h"
#include "asterisk/channel.h"
#include "asterisk/frame.h"
#include "asterisk/json.h"
#include "asterisk/pbx.h"
#include "asterisk/stasis_app.h"
#include "asterisk/stasis_app_impl.h"

#include "asb_shim.h"
