#!/usr/bin/env python3
"""The client side of .ci/scale-out: many watchers through HAProxy, checked
against the simulator's per-SVM request counts.

Opens WATCHERS_PER_SVM WatchCifsConnections watchers on each of SVMS SVM
names through the balancer (metadata x-ontap-svm: the SVM, so HAProxy hashes
the SVM onto one replica), then proves from the simulator's counts (each
replica polls with an ONTAP account of its own) that each SVM is polled by
exactly one replica. Then it stops one replica that owns an SVM: its watchers
end, reconnect through the balancer with a small backoff as a real client
would, and the counts must again show each SVM polled once, by a surviving
replica, with the survivors' SVMs where they were (consistent hashing).

Every wait is "until X, up to a generous limit"; nothing is timed tighter.
"""

import argparse
import asyncio
import collections
import csv
import io
import json
import os
import random
import signal
import sys
import tempfile
import urllib.request

SVMS = 30
WATCHERS_PER_SVM = 10
POLL_INTERVAL_S = 1
WAIT_LIMIT_S = 60
# Reconnection backoff of a watcher whose stream ended: doubling from the
# first to the most, each wait jittered by +-50%.
BACKOFF_FIRST_S = 0.2
BACKOFF_MOST_S = 2.0


def log(message):
    print(f"scale-out: {message}", flush=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="HAProxy's gRPC address, HOST:PORT")
    parser.add_argument("--admin", required=True, help="the simulator's admin API base URL")
    parser.add_argument("--haproxy-stats", required=True, help="HAProxy's stats CSV URL")
    parser.add_argument("--proto", required=True, help="the proto/ directory")
    parser.add_argument(
        "--replica",
        action="append",
        required=True,
        metavar="USER,SERVER,PID",
        help="a replica: its ONTAP user, its HAProxy server name, its process id",
    )
    args = parser.parse_args()
    replicas = []
    for replica in args.replica:
        user, server, pid = replica.split(",")
        replicas.append(Replica(user, server, int(pid)))
    args.replicas = replicas
    return args


Replica = collections.namedtuple("Replica", "user server pid")


def load_stubs(proto_dir, out_dir):
    """Generates the ontap.v1 messages and stubs into out_dir and imports
    them. google/api comes from googleapis-common-protos where that is
    installed (grpcio-status depends on it), since generating it too would
    shadow that package; otherwise it is generated with the rest."""
    from grpc_tools import protoc

    files = sorted(
        os.path.join(proto_dir, "ontap", "v1", name)
        for name in os.listdir(os.path.join(proto_dir, "ontap", "v1"))
        if name.endswith(".proto")
    )
    try:
        import google.api.field_behavior_pb2  # noqa: F401
    except ImportError:
        files.append(os.path.join(proto_dir, "google", "api", "field_behavior.proto"))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main(
        ["protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out_dir}",
         f"--grpc_python_out={out_dir}", *files]
    )
    if status != 0:
        sys.exit(f"scale-out: protoc failed ({status})")
    sys.path.insert(0, out_dir)
    import ontap.v1.cifs_connections_pb2 as messages
    import ontap.v1.cifs_connections_pb2_grpc as services

    return messages, services


def http(method, url):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


class Simulator:
    """The simulator's admin API: its per-SVM request counts."""

    def __init__(self, admin):
        self.admin = admin.rstrip("/")

    async def svm_requests(self):
        return await asyncio.to_thread(http, "GET", f"{self.admin}/stats/svm-requests")

    async def reset(self):
        await asyncio.to_thread(http, "POST", f"{self.admin}/stats/reset")


async def haproxy_servers(url):
    """Each backend server's status as HAProxy's stats CSV gives it."""

    def read():
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode().lstrip("# ")
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(io.StringIO(text))
            if row["pxname"] == "replicas" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    return await asyncio.to_thread(read)


async def wait_until(what, check, limit=WAIT_LIMIT_S, every=0.25):
    """Polls `check` (async, returning a truthy value when done) until it is
    done, up to `limit` seconds; returns its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            sys.exit(f"scale-out: FAILED: no {what} within {limit}s")
        await asyncio.sleep(every)


class Watchers:
    """WATCHERS_PER_SVM watchers of each SVM, one channel (one connection to
    the balancer) per SVM, as separate client processes would have. Each
    watcher reconnects whenever its stream ends, for whatever reason."""

    def __init__(self, grpc, messages, services, target, svms):
        self.grpc = grpc
        self.messages = messages
        self.svms = svms
        # A channel of its own per SVM: a local subchannel pool keeps grpcio
        # from sharing one connection among channels to the same target.
        self.channels = {
            svm: grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
            for svm in svms
        }
        self.stubs = {svm: services.CifsConnectionsStub(ch) for svm, ch in self.channels.items()}
        # Watcher (svm, n) -> whether its stream is open (SYNCED received).
        self.open = {}
        # Watcher -> how many streams it has had synced.
        self.sessions = collections.Counter()
        # How streams ended: status code name -> count.
        self.ends = collections.Counter()
        self.tasks = []

    def start(self):
        for svm in self.svms:
            for n in range(WATCHERS_PER_SVM):
                self.open[(svm, n)] = False
                self.tasks.append(asyncio.create_task(self.watch(svm, n)))

    async def watch(self, svm, n):
        request = self.messages.WatchCifsConnectionsRequest(svm_name=svm)
        request.poll_interval.seconds = POLL_INTERVAL_S
        synced = self.messages.CifsConnectionEventType.CIFS_CONNECTION_EVENT_TYPE_SYNCED
        backoff = BACKOFF_FIRST_S
        while True:
            call = self.stubs[svm].WatchCifsConnections(request, metadata=(("x-ontap-svm", svm),))
            try:
                async for response in call:
                    if response.type == synced:
                        self.open[(svm, n)] = True
                        self.sessions[(svm, n)] += 1
                        backoff = BACKOFF_FIRST_S
                self.ends["OK"] += 1
            except self.grpc.aio.AioRpcError as error:
                self.ends[error.code().name] += 1
            self.open[(svm, n)] = False
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, BACKOFF_MOST_S)

    def all_open(self):
        return all(self.open.values())

    async def close(self):
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for channel in self.channels.values():
            await channel.close()


async def polled_once_each(simulator, svms, users):
    """Resets the counts, lets a few polls happen, and returns each SVM's one
    poller; exits if any SVM was polled by none or by more than one, or by
    someone not in `users`."""
    await simulator.reset()
    await asyncio.sleep(3.5 * POLL_INTERVAL_S)
    counts = await simulator.svm_requests()
    owners = {}
    for svm in svms:
        pollers = counts.get(svm, {})
        if len(pollers) != 1:
            sys.exit(f"scale-out: FAILED: {svm} was polled by {len(pollers)} replicas: {pollers}")
        (user,) = pollers
        if user not in users:
            sys.exit(f"scale-out: FAILED: {svm} was polled by {user}, not one of {sorted(users)}")
        owners[svm] = user
    return owners


def distribution(owners, users):
    per_user = collections.Counter(owners.values())
    return ", ".join(f"{user}: {per_user[user]}" for user in sorted(users))


async def run(args, grpc, messages, services):
    simulator = Simulator(args.admin)
    replicas = {r.user: r for r in args.replicas}
    svms = [f"scale-svm-{i:02d}" for i in range(1, SVMS + 1)]

    async def all_servers_up():
        servers = await haproxy_servers(args.haproxy_stats)
        return all(servers.get(r.server) == "UP" for r in args.replicas)

    await wait_until("replica UP in HAProxy's checks", all_servers_up)
    log(f"HAProxy sees {len(args.replicas)} replicas UP")

    watchers = Watchers(grpc, messages, services, args.target, svms)
    watchers.start()
    try:
        async def all_open():
            return watchers.all_open()

        await wait_until("open watchers", all_open)
        log(f"{len(watchers.open)} watchers open over {len(svms)} SVMs")

        async def every_svm_polled():
            counts = await simulator.svm_requests()
            return all(svm in counts for svm in svms)

        await wait_until("poll of every SVM", every_svm_polled)
        owners = await polled_once_each(simulator, svms, set(replicas))
        log(f"each SVM polled by exactly one replica; SVMs per replica: "
            f"{distribution(owners, replicas)}")

        owned = collections.Counter(owners.values())
        victim = replicas[max(sorted(owned), key=lambda user: owned[user])]
        victim_svms = sorted(svm for svm, user in owners.items() if user == victim.user)
        log(f"stopping {victim.user} (HAProxy server {victim.server}, pid {victim.pid}), "
            f"which polls {len(victim_svms)} SVMs")
        os.kill(victim.pid, signal.SIGTERM)
        before = dict(watchers.sessions)
        moved = [(svm, n) for svm in victim_svms for n in range(WATCHERS_PER_SVM)]

        async def victim_down():
            return (await haproxy_servers(args.haproxy_stats)).get(victim.server, "").startswith(
                "DOWN")

        async def reconnected():
            again = all(watchers.sessions[w] > before.get(w, 0) for w in moved)
            return again and await all_open()

        await wait_until(f"DOWN of {victim.server} in HAProxy's checks", victim_down)
        await wait_until("reconnection of every watcher", reconnected)
        ended = ", ".join(f"{code} {n}" for code, n in sorted(watchers.ends.items()))
        log(f"{victim.user} is DOWN in HAProxy; its {len(moved)} watchers reconnected, "
            f"all {len(watchers.open)} open again (streams ended so far: {ended})")

        survivors = set(replicas) - {victim.user}
        after = await polled_once_each(simulator, svms, survivors)
        stayed = [svm for svm in svms if owners[svm] != victim.user]
        shifted = [svm for svm in stayed if after[svm] != owners[svm]]
        if shifted:
            sys.exit(f"scale-out: FAILED: SVMs of surviving replicas moved: "
                     f"{[(svm, owners[svm], after[svm]) for svm in shifted]}")
        took = collections.Counter(after[svm] for svm in victim_svms)
        log(f"each SVM polled by exactly one surviving replica; SVMs per replica: "
            f"{distribution(after, survivors)}")
        log(f"the {len(stayed)} SVMs of the survivors stayed put; {victim.user}'s "
            f"{len(victim_svms)} went to {dict(sorted(took.items()))}")
    finally:
        await watchers.close()


def main():
    args = parse_args()
    import grpc
    import grpc.aio  # noqa: F401 (the asyncio API, imported explicitly for older grpcio)

    with tempfile.TemporaryDirectory(prefix="scale-out-stubs-") as out:
        messages, services = load_stubs(args.proto, out)
        asyncio.run(run(args, grpc, messages, services))
    log("PASSED")


if __name__ == "__main__":
    main()
