// An example client of the gateway: @grpc/proto-loader reads ../../proto at
// run time (no generated code; its default options, so fields are camelCase,
// but for longs: String, so 64-bit integers such as a CIFS session's
// identifier arrive as exact decimal strings, and enums: String, so enum
// values arrive by name) and @grpc/grpc-js lists the
// CIFS connections of SVM vs1 and one page of its CIFS sessions, reads the
// BadRequest of a refused call, runs the iSCSI story (create, count,
// disable, rename, get with a read mask, delete, and a get that finds
// nothing) and takes three messages of a metrics watch under a deadline.
//
// Usage: node client.js HOST:PORT
//
// Prints one line per step, then a JSON summary as its last line. On an
// unexpected error it prints the gRPC status code and the
// google.rpc.ErrorInfo reason, and exits 1.

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");

const TIMEOUT_MS = 10000; // every call has a deadline, as a real client's should

if (process.argv.length !== 3) {
  console.error("usage: node client.js HOST:PORT");
  process.exit(2);
}
const target = process.argv[2];

const definition = protoLoader.loadSync(
  ["ontap/v1/cifs_connections.proto", "ontap/v1/cifs_sessions.proto", "ontap/v1/iscsi_services.proto"],
  { includeDirs: [path.join(__dirname, "../../proto")], longs: String, enums: String }
);
const ontap = grpc.loadPackageDefinition(definition).ontap.v1;

// google.rpc.Status, ErrorInfo and BadRequest as googleapis defines them: proto/ does not
// carry them, and the error details arrive as a serialized Status in the
// grpc-status-details-bin trailer.
const rpcTypes = protobuf.Root.fromJSON(protobuf.common.get("google/protobuf/any.proto"));
protobuf.parse(
  `syntax = "proto3";
  package google.rpc;
  message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
  message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
  message BadRequest {
    message FieldViolation { string field = 1; string description = 2; }
    repeated FieldViolation field_violations = 1;
  }`,
  rpcTypes,
  { keepCase: true }
);
const Status = rpcTypes.lookupType("google.rpc.Status");
const ErrorInfo = rpcTypes.lookupType("google.rpc.ErrorInfo");
const BadRequest = rpcTypes.lookupType("google.rpc.BadRequest");

/** The status code's name, message, ErrorInfo and BadRequest of a failed call. */
function errorOf(err) {
  const code = Object.keys(grpc.status).find((name) => grpc.status[name] === err.code);
  const error = { code, message: err.details, reason: "", metadata: {}, fields: [] };
  // Absent when the call failed before the gateway answered.
  const [details] = err.metadata ? err.metadata.get("grpc-status-details-bin") : [];
  for (const detail of details ? Status.decode(details).details : []) {
    if (detail.type_url === "type.googleapis.com/google.rpc.ErrorInfo") {
      const info = ErrorInfo.decode(detail.value);
      error.reason = info.reason;
      error.metadata = info.metadata;
    } else if (detail.type_url === "type.googleapis.com/google.rpc.BadRequest") {
      error.fields = BadRequest.decode(detail.value).field_violations.map((violation) => violation.field);
    }
  }
  return error;
}

/** Calls `method` of `client` and resolves with its response. */
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + TIMEOUT_MS);
    client[method](request, { deadline }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function listCifsConnections(summary) {
  const client = new ontap.CifsConnections(target, grpc.credentials.createInsecure());
  let pageToken = "";
  const pages = [];
  // The first two pages of five: enough to show nextPageToken at work.
  for (const page of [1, 2]) {
    const response = await call(client, "ListCifsConnections", { svmName: "vs1", pageSize: 5, pageToken });
    const clients = response.cifsConnections.map((c) => `${c.clientIp}:${c.clientPort}`).join(", ");
    console.log(`cifs: vs1 page ${page}: ${response.cifsConnections.length} connections (${clients})`);
    pages.push(response.cifsConnections.length);
    if (page === 1) summary.cifs_next_page_token = response.nextPageToken !== "";
    pageToken = response.nextPageToken;
    if (!pageToken) break;
  }
  summary.cifs_pages = pages;
  client.close();
}

async function listCifsSessions(summary) {
  const client = new ontap.CifsSessions(target, grpc.credentials.createInsecure());
  // One page of five of vs1's sessions, only the fields named.
  const response = await call(client, "ListCifsSessions", {
    svmName: "vs1",
    pageSize: 5,
    readMask: { paths: ["identifier", "connection_id", "client_ip"] },
  });
  const sessions = response.cifsSessions
    .map((s) => `${s.identifier} on connection ${s.connectionId} from ${s.clientIp}`)
    .join(", ");
  console.log(`cifs: vs1 sessions page 1: ${response.cifsSessions.length} sessions (${sessions})`);
  summary.cifs_sessions_page = response.cifsSessions.length;
  summary.cifs_sessions_next_page_token = response.nextPageToken !== "";
  client.close();
}

/** A request the gateway refuses before anything goes upstream, and which field was wrong, from its BadRequest. */
async function badRequest(summary) {
  const client = new ontap.CifsConnections(target, grpc.credentials.createInsecure());
  let error;
  try {
    await call(client, "ListCifsConnections", { svmName: "vs1", pageSize: -1 });
  } catch (err) {
    if (err.code !== grpc.status.INVALID_ARGUMENT) throw err;
    error = errorOf(err);
  }
  if (!error) throw new Error("bad request: a negative page_size was answered");
  console.log(`bad request: ${error.code} ${error.reason}, fields ${error.fields.join(", ")} (as expected)`);
  summary.bad_request = { code: error.code, reason: error.reason, fields: error.fields };
  client.close();
}

async function iscsiStory(summary) {
  const client = new ontap.IscsiServices(target, grpc.credentials.createInsecure());

  const created = await call(client, "CreateIscsiService", { iscsiService: { svm: { name: "svm1" } } });
  const uuid = created.svm.uuid; // the service is addressed by its SVM's UUID from here on
  console.log(
    `iscsi: created the service of svm1 (${uuid}): ` +
      `target ${created.target.name}, alias ${created.target.alias}, enabled ${created.enabled}`
  );
  summary.created_alias = created.target.alias;
  summary.created_enabled = created.enabled;

  const counted = await call(client, "ListIscsiServices", { countOnly: true });
  console.log(`iscsi: ${counted.totalSize} services in the cluster`);
  summary.services_total = counted.totalSize;

  const disabled = await call(client, "UpdateIscsiService", {
    iscsiService: { svm: { uuid }, enabled: false },
    updateMask: { paths: ["enabled"] },
  });
  console.log(`iscsi: disabled: enabled ${disabled.enabled}`);
  summary.disabled_enabled = disabled.enabled;

  // "*" replaces every updatable field, so enabled=false is sent again.
  const renamed = await call(client, "UpdateIscsiService", {
    iscsiService: { svm: { uuid }, enabled: false, target: { alias: "lab" } },
    updateMask: { paths: ["*"] },
  });
  console.log(`iscsi: renamed: alias ${renamed.target.alias}`);
  summary.renamed_alias = renamed.target.alias;

  const got = await call(client, "GetIscsiService", {
    svmUuid: uuid,
    readMask: { paths: ["enabled", "target.alias"] },
  });
  console.log(`iscsi: get with read_mask enabled,target.alias: ${JSON.stringify(got)}`);
  summary.got = got;

  const deleted = await call(client, "DeleteIscsiService", { svmUuid: uuid });
  console.log("iscsi: deleted the service of svm1 (google.protobuf.Empty)");
  summary.deleted_fields = Object.keys(deleted);

  // The one error this story expects: the service is gone.
  let error;
  try {
    await call(client, "GetIscsiService", { svmUuid: uuid });
  } catch (err) {
    if (err.code !== grpc.status.NOT_FOUND) throw err;
    error = errorOf(err);
  }
  if (!error) throw new Error("iscsi: the deleted service is still there");
  console.log(`iscsi: get after delete: ${error.code} ${error.reason} (as expected)`);
  summary.after_delete = { code: error.code, reason: error.reason };
  client.close();
}

/** Three messages of svm2's iSCSI metrics watch, then a cancel: a watch runs until its reader stops or its deadline passes. */
async function watchMetrics(summary) {
  const client = new ontap.IscsiServices(target, grpc.credentials.createInsecure());
  const services = await call(client, "ListIscsiServices", { svmName: "svm2" });
  if (services.iscsiServices.length !== 1) {
    throw new Error(`watch: svm2 has ${services.iscsiServices.length} iSCSI services`);
  }
  const watch = client.WatchIscsiServiceMetrics(
    { svmUuid: services.iscsiServices[0].svm.uuid, pollInterval: { seconds: 1 } },
    { deadline: new Date(Date.now() + 30000) }
  );
  let messages = 0;
  await new Promise((resolve, reject) => {
    watch.on("data", (message) => {
      messages += 1;
      const { metric } = message;
      const at = new Date(Number(metric.timestamp.seconds) * 1000).toISOString();
      console.log(`watch: svm2 metric at ${at}: ${metric.status}, ${metric.iops.read} read IOPS`);
      if (messages === 3) {
        watch.cancel();
        resolve();
      }
    });
    // Cancelling ends the call with CANCELLED: what this reader asked for.
    watch.on("error", (err) => (err.code === grpc.status.CANCELLED ? resolve() : reject(err)));
    watch.on("end", resolve);
  });
  if (messages !== 3) throw new Error(`watch: the stream ended after ${messages} messages`);
  summary.watch = { svm: "svm2", messages };
  client.close();
}

async function main() {
  const summary = {};
  await listCifsConnections(summary);
  await listCifsSessions(summary);
  await badRequest(summary);
  await iscsiStory(summary);
  await watchMetrics(summary);
  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  if (typeof err.code !== "number") {
    console.error(err); // not a gRPC status: a bug or a broken story, with its stack
    process.exit(1);
  }
  const error = errorOf(err);
  console.error(`error: ${error.code}: ${error.message}`);
  if (error.reason) {
    const metadata = Object.entries(error.metadata)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    console.error(`  ErrorInfo reason ${error.reason} (${metadata})`);
  }
  process.exit(1);
});
