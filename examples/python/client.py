"""An example client of the gateway, on stubs generated from proto/ by
generate.sh: lists the CIFS connections of SVM vs1 and one page of its CIFS
sessions, reads the BadRequest of a refused call, runs the iSCSI story
(create, count, disable, rename, get with a read mask, delete, and a get
that finds nothing) and takes three messages of a metrics watch under a
deadline.

Usage: client.py HOST:PORT

Prints one line per step, then a JSON summary as its last line. On an
unexpected error it prints the gRPC status code and the google.rpc.ErrorInfo
reason, and exits 1.
"""

import json
import os
import sys

# The stubs come from generate.sh. PYTHONPATH comes first on sys.path, so
# stubs generated elsewhere (the tests use a temporary directory) win.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated"))

import grpc  # noqa: E402
from google.protobuf import duration_pb2, field_mask_pb2, json_format  # noqa: E402
from google.rpc import error_details_pb2  # noqa: E402
from grpc_status import rpc_status  # noqa: E402
from ontap.v1 import (  # noqa: E402
    cifs_connections_pb2,
    cifs_connections_pb2_grpc,
    cifs_sessions_pb2,
    cifs_sessions_pb2_grpc,
    common_pb2,
    iscsi_services_pb2,
    iscsi_services_pb2_grpc,
)

TIMEOUT = 10  # seconds: every call has a deadline, as a real client's should


def error_of(err: grpc.RpcError) -> dict:
    """The status code, message, ErrorInfo and BadRequest of a failed call."""
    error = {"code": err.code().name, "message": err.details(), "reason": "", "fields": []}
    status = rpc_status.from_call(err)  # None when the server sent no details
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            error["reason"] = info.reason
            error["metadata"] = dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            error["fields"] = [violation.field for violation in bad.field_violations]
    return error


def list_cifs_connections(channel: grpc.Channel, summary: dict) -> None:
    stub = cifs_connections_pb2_grpc.CifsConnectionsStub(channel)
    token, pages = "", []
    # The first two pages of five: enough to show next_page_token at work.
    for page in (1, 2):
        response = stub.ListCifsConnections(
            cifs_connections_pb2.ListCifsConnectionsRequest(
                svm_name="vs1", page_size=5, page_token=token
            ),
            timeout=TIMEOUT,
        )
        clients = ", ".join(f"{c.client_ip}:{c.client_port}" for c in response.cifs_connections)
        print(f"cifs: vs1 page {page}: {len(response.cifs_connections)} connections ({clients})")
        pages.append(len(response.cifs_connections))
        if page == 1:
            summary["cifs_next_page_token"] = bool(response.next_page_token)
        token = response.next_page_token
        if not token:
            break
    summary["cifs_pages"] = pages


def list_cifs_sessions(channel: grpc.Channel, summary: dict) -> None:
    stub = cifs_sessions_pb2_grpc.CifsSessionsStub(channel)
    # One page of five of vs1's sessions, only the fields named. A session's
    # identifier is a uint64 (a Python int here, exact above 2^63).
    response = stub.ListCifsSessions(
        cifs_sessions_pb2.ListCifsSessionsRequest(
            svm_name="vs1",
            page_size=5,
            read_mask=field_mask_pb2.FieldMask(
                paths=["identifier", "connection_id", "client_ip"]
            ),
        ),
        timeout=TIMEOUT,
    )
    sessions = ", ".join(
        f"{s.identifier} on connection {s.connection_id} from {s.client_ip}" for s in response.cifs_sessions
    )
    print(f"cifs: vs1 sessions page 1: {len(response.cifs_sessions)} sessions ({sessions})")
    summary["cifs_sessions_page"] = len(response.cifs_sessions)
    summary["cifs_sessions_next_page_token"] = bool(response.next_page_token)


def bad_request(channel: grpc.Channel, summary: dict) -> None:
    """A request the gateway refuses before anything goes upstream, and which
    field was wrong, from its BadRequest."""
    stub = cifs_connections_pb2_grpc.CifsConnectionsStub(channel)
    try:
        stub.ListCifsConnections(
            cifs_connections_pb2.ListCifsConnectionsRequest(svm_name="vs1", page_size=-1),
            timeout=TIMEOUT,
        )
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        error = error_of(err)
    else:
        raise SystemExit("bad request: a negative page_size was answered")
    print(f"bad request: {error['code']} {error['reason']}, fields {', '.join(error['fields'])} (as expected)")
    summary["bad_request"] = {k: error[k] for k in ("code", "reason", "fields")}


def iscsi_story(channel: grpc.Channel, summary: dict) -> None:
    stub = iscsi_services_pb2_grpc.IscsiServicesStub(channel)
    pb = iscsi_services_pb2

    created = stub.CreateIscsiService(
        pb.CreateIscsiServiceRequest(
            iscsi_service=pb.IscsiService(svm=common_pb2.SvmRef(name="svm1"))
        ),
        timeout=TIMEOUT,
    )
    uuid = created.svm.uuid  # the service is addressed by its SVM's UUID from here on
    print(
        f"iscsi: created the service of svm1 ({uuid}): "
        f"target {created.target.name}, alias {created.target.alias}, enabled {created.enabled}"
    )
    summary["created_alias"] = created.target.alias
    summary["created_enabled"] = created.enabled

    counted = stub.ListIscsiServices(pb.ListIscsiServicesRequest(count_only=True), timeout=TIMEOUT)
    print(f"iscsi: {counted.total_size} services in the cluster")
    summary["services_total"] = counted.total_size

    disabled = stub.UpdateIscsiService(
        pb.UpdateIscsiServiceRequest(
            iscsi_service=pb.IscsiService(svm=common_pb2.SvmRef(uuid=uuid), enabled=False),
            update_mask=field_mask_pb2.FieldMask(paths=["enabled"]),
        ),
        timeout=TIMEOUT,
    )
    print(f"iscsi: disabled: enabled {disabled.enabled}")
    summary["disabled_enabled"] = disabled.enabled

    # "*" replaces every updatable field, so enabled=False is sent again.
    renamed = stub.UpdateIscsiService(
        pb.UpdateIscsiServiceRequest(
            iscsi_service=pb.IscsiService(
                svm=common_pb2.SvmRef(uuid=uuid),
                enabled=False,
                target=pb.IscsiTarget(alias="lab"),
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["*"]),
        ),
        timeout=TIMEOUT,
    )
    print(f"iscsi: renamed: alias {renamed.target.alias}")
    summary["renamed_alias"] = renamed.target.alias

    got = stub.GetIscsiService(
        pb.GetIscsiServiceRequest(
            svm_uuid=uuid, read_mask=field_mask_pb2.FieldMask(paths=["enabled", "target.alias"])
        ),
        timeout=TIMEOUT,
    )
    got = json_format.MessageToDict(got, preserving_proto_field_name=True)
    print(f"iscsi: get with read_mask enabled,target.alias: {json.dumps(got)}")
    summary["got"] = got

    deleted = stub.DeleteIscsiService(pb.DeleteIscsiServiceRequest(svm_uuid=uuid), timeout=TIMEOUT)
    print(f"iscsi: deleted the service of svm1 ({deleted.DESCRIPTOR.full_name})")
    summary["deleted_fields"] = [field.name for field, _ in deleted.ListFields()]

    # The one error this story expects: the service is gone.
    try:
        stub.GetIscsiService(pb.GetIscsiServiceRequest(svm_uuid=uuid), timeout=TIMEOUT)
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.NOT_FOUND:
            raise
        error = error_of(err)
    else:
        raise SystemExit("iscsi: the deleted service is still there")
    print(f"iscsi: get after delete: {error['code']} {error['reason']} (as expected)")
    summary["after_delete"] = {"code": error["code"], "reason": error["reason"]}


def watch_metrics(channel: grpc.Channel, summary: dict) -> None:
    """Three messages of svm2's iSCSI metrics watch, then a cancel: a watch
    runs until its reader stops or its deadline passes."""
    stub = iscsi_services_pb2_grpc.IscsiServicesStub(channel)
    pb = iscsi_services_pb2
    services = stub.ListIscsiServices(pb.ListIscsiServicesRequest(svm_name="svm2"), timeout=TIMEOUT)
    if len(services.iscsi_services) != 1:
        raise SystemExit(f"watch: svm2 has {len(services.iscsi_services)} iSCSI services")
    watch = stub.WatchIscsiServiceMetrics(
        pb.WatchIscsiServiceMetricsRequest(
            svm_uuid=services.iscsi_services[0].svm.uuid,
            poll_interval=duration_pb2.Duration(seconds=1),
        ),
        timeout=30,
    )
    messages = 0
    for message in watch:
        messages += 1
        metric = message.metric
        status = common_pb2.MetricStatus.Name(metric.status)
        print(f"watch: svm2 metric at {metric.timestamp.ToJsonString()}: {status}, {metric.iops.read} read IOPS")
        if messages == 3:
            break
    watch.cancel()
    summary["watch"] = {"svm": "svm2", "messages": messages}


def main(target: str) -> int:
    summary = {}
    with grpc.insecure_channel(target) as channel:
        try:
            list_cifs_connections(channel, summary)
            list_cifs_sessions(channel, summary)
            bad_request(channel, summary)
            iscsi_story(channel, summary)
            watch_metrics(channel, summary)
        except grpc.RpcError as err:
            error = error_of(err)
            print(f"error: {error['code']}: {error['message']}", file=sys.stderr)
            if error["reason"]:
                metadata = ", ".join(f"{k}={v}" for k, v in sorted(error["metadata"].items()))
                print(f"  ErrorInfo reason {error['reason']} ({metadata})", file=sys.stderr)
            return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
