// A Node.js client as a Node team would write one: @grpc/proto-loader reads
// proto/ at run time with no options beyond the include path, and
// @grpc/grpc-js runs the iSCSI story against the gateway (with
// proto-loader's default camelCase field names).
//
// Usage: node iscsi_client.js PROTO_DIR HOST:PORT   (prints one JSON line)

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [protoDir, target] = process.argv.slice(2);
const definition = protoLoader.loadSync("ontap/v1/iscsi_services.proto", {
  includeDirs: [path.resolve(protoDir)],
});
const ontap = grpc.loadPackageDefinition(definition).ontap.v1;
const client = new ontap.IscsiServices(target, grpc.credentials.createInsecure());

function call(method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 10000);
    client[method](request, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function main() {
  const created = await call("CreateIscsiService", { iscsiService: { svm: { name: "svm1" } } });
  const uuid = created.svm.uuid;
  const updated = await call("UpdateIscsiService", {
    iscsiService: { svm: { uuid }, enabled: false },
    updateMask: { paths: ["enabled"] },
  });
  let notFound = null;
  try {
    await call("GetIscsiService", { svmUuid: "00000000-0000-0000-0000-000000000000" });
  } catch (err) {
    notFound = err.code === grpc.status.NOT_FOUND;
  }
  const deleted = await call("DeleteIscsiService", { svmUuid: uuid });
  console.log(
    JSON.stringify({
      created_alias: created.target.alias,
      updated_enabled: updated.enabled,
      not_found: notFound,
      deleted_keys: Object.keys(deleted),
    })
  );
  client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
