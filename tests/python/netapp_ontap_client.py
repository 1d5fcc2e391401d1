"""NetApp's own Python client (netapp-ontap, from PyPI) against the
simulator, as it would talk to a cluster: HTTPS with the simulator's CA,
basic auth, HAL collections it pages through by following next links, and
the iSCSI lifecycle of the page's example.

Usage: netapp_ontap_client.py HOST PORT CA_FILE   (prints one JSON line)
"""

import json
import sys

from netapp_ontap import HostConnection, config
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import CifsConnection, IscsiService


def main(host: str, port: str, ca_file: str) -> None:
    config.CONNECTION = HostConnection(
        host, port=int(port), username="admin", password="netapp1!", verify=ca_file
    )
    connections = list(
        CifsConnection.get_collection(fields="*", max_records=7, **{"svm.name": "vs1"})
    )
    wildcard = list(CifsConnection.get_collection(client_ip="10.74.*"))

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
                "wildcard": len(wildcard),
                "created": created,
                "disabled_enabled": disabled,
                "gone_code": gone_code,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
