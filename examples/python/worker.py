#!/usr/bin/env python3
"""An ARI worker for StasisBroadcast(): claim offered calls, handle the ones won.

    python3 worker.py --app pool-1            # against the test bed on 127.0.0.1:8088

Each CallBroadcast on the application's WebSocket is an offer. The worker claims
it (POST /ari/events/claim); 204 means it won and StasisStart follows on the same
WebSocket, 409 that another worker was faster, 404 that the offer is over. A won
call is "handled" here by printing its args and sending it back to the dialplan
(POST /ari/channels/{id}/continue); it counts once its StasisEnd arrives.

Needs `requests` and `websocket-client` (see requirements.txt).
"""

import argparse
import json
import signal
import sys
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
import websocket


def log(msg):
    # Flushed at once, so a supervisor reading a pipe sees each line as it happens.
    print(msg, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--app", required=True, help="ARI application name to register")
    p.add_argument("--url", default="http://127.0.0.1:8088", help="Asterisk HTTP base URL")
    p.add_argument("--user", default="asb", help="ARI user")
    p.add_argument("--password", default="asb", help="ARI password")
    p.add_argument(
        "--max-calls", type=int, default=0, help="exit after N handled calls (0 = forever)"
    )
    p.add_argument("--think-ms", type=int, default=0, help="pause before sending a won call on")
    return p.parse_args()


def ws_url(base, app, user, password):
    """http://host:port -> ws://host:port/ari/events?app=...&api_key=user:password"""
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = urlencode({"app": app, "api_key": f"{user}:{password}"})
    return urlunsplit((scheme, parts.netloc, "/ari/events", query, ""))


def stop(*_):
    raise KeyboardInterrupt


def main():
    opts = parse_args()
    # Ctrl-C (even when started in the background) and SIGTERM both end the loop below.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ari = requests.Session()
    ari.auth = (opts.user, opts.password)
    base = opts.url.rstrip("/") + "/ari"

    # Opening the WebSocket registers the application with Asterisk.
    ws = websocket.create_connection(ws_url(opts.url, opts.app, opts.user, opts.password))
    log(f"{opts.app}: connected to {opts.url}, waiting for offers")

    ours = set()  # channels we continued; each counts as handled at its StasisEnd
    handled = 0
    try:
        while opts.max_calls == 0 or handled < opts.max_calls:
            raw = ws.recv()
            if not raw:  # closed by Asterisk
                log("WebSocket closed by Asterisk")
                return 1
            event = json.loads(raw)
            kind, chan = event.get("type"), event.get("channel", {}).get("id")

            if kind == "CallBroadcast":
                log(f"offered {chan} (caller {event['caller']!r}, called {event['called']!r})")
                r = ari.post(
                    f"{base}/events/claim", params={"channelId": chan, "application": opts.app}
                )
                if r.status_code == 204:
                    log(f"won {chan}")  # StasisStart follows on this WebSocket
                elif r.status_code == 409:
                    log(f"lost {chan}: another worker claimed it")
                else:
                    log(f"claim of {chan} answered {r.status_code}: {r.text}")

            elif kind == "StasisStart":
                # The channel is ours, exactly as if the dialplan had run Stasis(app,args...).
                log(f"StasisStart {chan} args={event['args']}")
                time.sleep(opts.think_ms / 1000)
                r = ari.post(f"{base}/channels/{chan}/continue")
                log(f"continued {chan} ({r.status_code})")
                ours.add(chan)

            elif kind == "StasisEnd" and chan in ours:
                ours.discard(chan)
                handled += 1
                log(f"done with {chan} ({handled} handled)")
        log(f"handled {handled} calls, exiting")
    except KeyboardInterrupt:
        log("interrupted, shutting down")
    finally:
        ws.close()  # the application goes away with its WebSocket
    return 0


if __name__ == "__main__":
    sys.exit(main())
