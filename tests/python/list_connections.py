"""A third-party client's view of the gateway: Python grpcio with no
generated stubs. It learns the schema over server reflection (grpcio's
client asks v1alpha), pages through ListCifsConnections, checks health,
and reads the structured error details of a bad request.

Usage: list_connections.py HOST:PORT   (prints one JSON summary line)
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

METHOD = "/ontap.v1.CifsConnections/ListCifsConnections"


def main(target: str) -> None:
    channel = grpc.insecure_channel(target)
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    service = pool.FindServiceByName("ontap.v1.CifsConnections")
    method = service.FindMethodByName("ListCifsConnections")
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(
        METHOD,
        request_serializer=request_cls.SerializeToString,
        response_deserializer=response_cls.FromString,
    )

    identifiers, pages, token = [], 0, ""
    while True:
        request = request_cls(svm_name="vs1", page_size=10, page_token=token)
        response = call(request, timeout=10)
        pages += 1
        for connection in response.cifs_connections:
            identifiers.append([connection.node.name, connection.identifier])
        token = response.next_page_token
        if not token:
            break

    health = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="ontap.v1.CifsConnections"), timeout=5
    )

    bad_fields, reason = [], ""
    try:
        call(request_cls(page_size=-1), timeout=5)
    except grpc.RpcError as err:
        status = rpc_status.from_call(err)
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                bad_fields = [v.field for v in bad.field_violations]
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
        code = err.code().name

    first = call(request_cls(svm_name="vs1", page_size=1), timeout=10)
    print(
        json.dumps(
            {
                "pages": pages,
                "connections": len(identifiers),
                "distinct": len({tuple(i) for i in identifiers}),
                "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
                "error_code": code,
                "error_reason": reason,
                "bad_fields": bad_fields,
                "first": json_format.MessageToDict(first),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
