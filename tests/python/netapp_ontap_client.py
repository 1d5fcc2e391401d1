"""NetApp's own Python client (netapp-ontap, from PyPI) against the
simulator, as it would talk to a cluster: HTTPS with the simulator's CA,
basic auth, HAL collections it pages through by following next links, every
endpoint of the reference pages read through the library's resources (so
its schemas validate every field, timestamps, statuses and enums included),
the iSCSI lifecycle of the page's example, and a CIFS session (the one whose
identifier is above 2^63) read and closed by its four keys.

Usage: netapp_ontap_client.py HOST PORT CA_FILE   (prints one JSON line)
"""

import json
import sys

from netapp_ontap import HostConnection, config
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import (
    CifsConnection,
    CifsSession,
    IscsiService,
    IscsiSession,
    PerformanceIscsiMetric,
)

INTERVALS = ["1h", "1d", "1w", "1m", "1y"]
I64_MAX = 2**63 - 1


class IscsiSessionByKeys(IscsiSession):
    """netapp-ontap's IscsiSession, its instance path's keys named by the
    record's fields.

    netapp-ontap 9.19.1 lists them as ["svm.uuid", "tpgroup", "tsih"]:
    "tpgroup" is the URL's placeholder, not a field, so the record's state
    (to_dict(), which instance_location reads) never holds it and the library
    silently leaves the segment out. Even NetApp's own example,
    IscsiSession(tsih=10, tpgroup="iscsi_lif1", **{"svm.uuid": ...}).get(),
    asks for .../sessions/{svm.uuid}/{tsih}, which is no session. The field
    holding the value is target_portal_group; naming it is the whole fix.
    """

    _keys = ["svm.uuid", "target_portal_group", "tsih"]


def when(value):
    """A timestamp the library parsed into a datetime, written back as ISO 8601."""
    return value.isoformat()


def live_performance(service):
    """What the library made of a service's metric and statistics."""
    return {
        "metric_timestamp": when(service.metric.timestamp),
        "metric_status": service.metric.status,
        "metric_duration": service.metric.duration,
        "metric_iops_total": service.metric.iops.total,
        "statistics_timestamp": when(service.statistics.timestamp),
        "statistics_status": service.statistics.status,
        "statistics_iops_raw_total": service.statistics.iops_raw.total,
    }


def history(svm_uuid, interval):
    samples = list(PerformanceIscsiMetric.get_collection(svm_uuid, interval=interval))
    return {
        "count": len(samples),
        "distinct": len({s.timestamp for s in samples}),
        "newest": when(samples[0].timestamp),
        "oldest": when(samples[-1].timestamp),
        "durations": sorted({s.duration for s in samples}),
        "statuses": sorted({s.status for s in samples}),
    }


def error_code(call):
    """The ONTAP error code of a call that must fail, None if it succeeds."""
    try:
        call()
    except NetAppRestError as err:
        return err.response_body["error"]["code"]
    return None


def cifs_sessions():
    """Every session of vs1 paged through, a filtered read, then the session
    above 2^63 read by its keys, closed with delete(), and looked for again:
    by its keys, and in its connection's sessions."""
    listed = list(CifsSession.get_collection(fields="*", max_records=20, **{"svm.name": "vs1"}))
    smb3 = list(CifsSession.get_collection(protocol="smb3*", fields="protocol"))
    # netapp-ontap reads identifier as a Python int (its Size field is
    # int(str(value))), so IDs above 2^63 - 1 are exact, in the record and in
    # the instance path it builds; the simulator's seed has one.
    above = next(s for s in listed if s.identifier > I64_MAX)
    keys = {
        "node": {"uuid": above.node.uuid},
        "svm": {"uuid": above.svm.uuid},
        "identifier": above.identifier,
        "connection_id": above.connection_id,
    }
    one = CifsSession(**keys)
    location = one.instance_location
    one.get()
    single = {
        "location": location,
        "identifier": one.identifier,
        "connection_id": one.connection_id,
        "node_name": one.node.name,
        "svm_name": one.svm.name,
        "client_ip": one.client_ip,
        "server_ip": one.server_ip,
        "user": getattr(one, "user", None),
        "authentication": one.authentication,
        "protocol": one.protocol,
        "smb_encryption": one.smb_encryption,
        "open_shares": one.open_shares,
        "volumes": [v.name for v in getattr(one, "volumes", [])],
        "connected_duration": one.connected_duration,
        "same_as_listed": one.to_dict() == above.to_dict(),
    }
    # netapp-ontap sends every DELETE with the JSON body {} (Resource._delete
    # passes json={} when given no body), as NetApp's own examples of closing
    # sessions do, so the server must take {} for no body.
    # A session ID with connection ID 0 is ONTAP's one refused wildcard.
    refused = error_code(CifsSession(**{**keys, "connection_id": 0}).delete)
    CifsSession(**keys).delete()
    gone = error_code(CifsSession(**keys).get)
    carriers = list(
        CifsConnection.get_collection(
            fields="sessions",
            identifier=above.connection_id,
            **{"node.uuid": above.node.uuid, "svm.uuid": above.svm.uuid},
        )
    )
    return {
        "listed": len(listed),
        "distinct": len({(s.node.uuid, s.svm.uuid, s.identifier, s.connection_id) for s in listed}),
        "protocols": sorted({s.protocol for s in listed}),
        "smb3": len(smb3),
        "smb3_protocols": sorted({s.protocol for s in smb3}),
        "above_i64": above.identifier,
        "single": single,
        "refused_code": refused,
        "gone_code": gone,
        "connection_sessions": [[s.identifier for s in c.sessions] for c in carriers],
    }


def iscsi_sessions():
    """Every iSCSI session, then one read by its keys."""
    listed = list(IscsiSession.get_collection(fields="*"))
    first = listed[0]
    # NetApp's documented way to address one: see IscsiSessionByKeys.
    stock = IscsiSession(
        tsih=first.tsih, tpgroup=first.target_portal_group, **{"svm.uuid": first.svm.uuid}
    )
    one = IscsiSessionByKeys(
        svm={"uuid": first.svm.uuid}, target_portal_group=first.target_portal_group, tsih=first.tsih
    )
    location = one.instance_location
    one.get()
    return {
        "listed": len(listed),
        "keys": sorted([s.svm.name, s.target_portal_group, s.tsih] for s in listed),
        "authentication_types": sorted(
            {c.authentication_type for s in listed for c in s.connections}
        ),
        "stock_location": stock.instance_location,
        "single": {
            "location": location,
            "initiator": one.initiator.name,
            "isid": one.isid,
            "igroups": [g.name for g in one.igroups],
            "interfaces": [c.interface.name for c in one.connections],
            "same_as_listed": one.to_dict() == first.to_dict(),
        },
    }


def main(host: str, port: str, ca_file: str) -> None:
    config.CONNECTION = HostConnection(
        host, port=int(port), username="admin", password="netapp1!", verify=ca_file
    )
    connections = list(
        CifsConnection.get_collection(fields="*", max_records=7, **{"svm.name": "vs1"})
    )
    every_connection = list(CifsConnection.get_collection(fields="*"))
    wildcard = list(CifsConnection.get_collection(client_ip="10.74.*"))

    iscsi = iscsi_sessions()
    cifs = cifs_sessions()

    services = list(IscsiService.get_collection(fields="statistics,metric"))
    svm2 = next(s for s in services if s.svm.name == "svm2")
    one = IscsiService(svm={"uuid": svm2.svm.uuid})
    one.get(fields="statistics,metric")

    series = {interval: history(svm2.svm.uuid, interval) for interval in INTERVALS}
    week = list(PerformanceIscsiMetric.get_collection(svm2.svm.uuid, interval="1w"))
    asked = week[-1].timestamp
    sample = PerformanceIscsiMetric(svm2.svm.uuid, timestamp=asked)
    sample.get()

    service = IscsiService(svm={"name": "svm1"})
    service.post(hydrate=True)
    created = {"target": service.target.name, "alias": service.target.alias, "enabled": service.enabled}
    service.enabled = False
    service.patch()
    service.get(fields="enabled")
    disabled = service.enabled
    service.delete()
    try:
        IscsiService(svm={"uuid": service.svm.uuid}).get()
        gone_code = None
    except NetAppRestError as err:
        gone_code = err.response_body["error"]["code"]

    print(
        json.dumps(
            {
                "connections": len(connections),
                "distinct": len({(c.node.uuid, c.identifier) for c in connections}),
                "first_client_ip": connections[0].client_ip,
                "all_fields_connections": len(every_connection),
                "all_fields_sessions": sum(len(c.sessions) for c in every_connection),
                "all_fields_server_ips": sorted({c.server_ip for c in every_connection}),
                "wildcard": len(wildcard),
                "services": len(services),
                "listed": live_performance(svm2),
                "single": live_performance(one),
                "series": series,
                "sample": {
                    "asked": when(asked),
                    "got": when(sample.timestamp),
                    "duration": sample.duration,
                    "status": sample.status,
                },
                "created": created,
                "disabled_enabled": disabled,
                "gone_code": gone_code,
                "cifs_sessions": cifs,
                "iscsi_sessions": iscsi,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
