"""NetApp's own Python client (netapp-ontap, from PyPI) against the
simulator, as it would talk to a cluster: HTTPS with the simulator's CA,
basic auth, HAL collections it pages through by following next links, every
endpoint of the two reference pages read through the library's resources (so
its schemas validate every field, timestamps and statuses included), and the
iSCSI lifecycle of the page's example.

Usage: netapp_ontap_client.py HOST PORT CA_FILE   (prints one JSON line)
"""

import json
import sys

from netapp_ontap import HostConnection, config
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import CifsConnection, IscsiService, PerformanceIscsiMetric

INTERVALS = ["1h", "1d", "1w", "1m", "1y"]


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


def main(host: str, port: str, ca_file: str) -> None:
    config.CONNECTION = HostConnection(
        host, port=int(port), username="admin", password="netapp1!", verify=ca_file
    )
    connections = list(
        CifsConnection.get_collection(fields="*", max_records=7, **{"svm.name": "vs1"})
    )
    every_connection = list(CifsConnection.get_collection(fields="*"))
    wildcard = list(CifsConnection.get_collection(client_ip="10.74.*"))

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
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
