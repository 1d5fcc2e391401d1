// An example client of the gateway, on stubs generated from proto/ by
// generate.sh (protoc-gen-go and protoc-gen-go-grpc): lists the CIFS
// connections of SVM vs1 and one page of its CIFS sessions, reads the
// BadRequest of a refused call, runs the iSCSI story (create, count,
// disable, rename, get with a read mask, delete, and a get that finds
// nothing) and takes three messages of a metrics watch under a deadline.
//
// Usage:
//
//	client HOST:PORT          the story above
//	client -drain HOST:PORT   every CIFS connection of the cluster, by List
//	                          in pages of 1,000 and by Stream, at grpc-go's
//	                          default 4 MiB receive limit
//
// Prints one line per step, then a JSON summary as its last line. On an
// unexpected error it prints the gRPC status code and the
// google.rpc.ErrorInfo reason, and exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	ontapv1 "github.com/ontap-grpc-gateway/ontap-grpc-gateway/gen/go/ontap/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Every call has a deadline, as a real client's should.
const timeout = 10 * time.Second

// A summary is what the run did, printed as JSON last.
type summary map[string]interface{}

// rpcError is what a failed call carries: its code, message, and the
// google.rpc.ErrorInfo and google.rpc.BadRequest details.
type rpcError struct {
	Code     string
	Message  string
	Reason   string
	Metadata map[string]string
	Fields   []string
}

func errorOf(err error) rpcError {
	st, _ := status.FromError(err)
	out := rpcError{Code: codeName(st.Code()), Message: st.Message(), Fields: []string{}}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			out.Reason = d.GetReason()
			out.Metadata = d.GetMetadata()
		case *errdetails.BadRequest:
			for _, violation := range d.GetFieldViolations() {
				out.Fields = append(out.Fields, violation.GetField())
			}
		}
	}
	return out
}

// codeName spells a code as the other examples do (NOT_FOUND, not NotFound).
func codeName(code codes.Code) string {
	var name strings.Builder
	previous := 'A'
	for _, r := range code.String() {
		if r >= 'A' && r <= 'Z' && previous >= 'a' && previous <= 'z' {
			name.WriteByte('_')
		}
		name.WriteRune(r)
		previous = r
	}
	return strings.ToUpper(name.String())
}

func call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}

func listCifsConnections(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewCifsConnectionsClient(conn)
	token, pages := "", []int{}
	// The first two pages of five: enough to show next_page_token at work.
	for page := 1; page <= 2; page++ {
		ctx, cancel := call()
		response, err := client.ListCifsConnections(ctx, &ontapv1.ListCifsConnectionsRequest{
			SvmName: "vs1", PageSize: 5, PageToken: token,
		})
		cancel()
		if err != nil {
			return err
		}
		clients := []string{}
		for _, c := range response.GetCifsConnections() {
			clients = append(clients, fmt.Sprintf("%s:%d", c.GetClientIp(), c.GetClientPort()))
		}
		fmt.Printf("cifs: vs1 page %d: %d connections (%s)\n", page, len(clients), strings.Join(clients, ", "))
		pages = append(pages, len(clients))
		if page == 1 {
			out["cifs_next_page_token"] = response.GetNextPageToken() != ""
		}
		token = response.GetNextPageToken()
		if token == "" {
			break
		}
	}
	out["cifs_pages"] = pages
	return nil
}

func listCifsSessions(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewCifsSessionsClient(conn)
	// One page of five of vs1's sessions, only the fields named. A session's
	// identifier is a uint64, exact above 2^63.
	ctx, cancel := call()
	defer cancel()
	response, err := client.ListCifsSessions(ctx, &ontapv1.ListCifsSessionsRequest{
		SvmName:  "vs1",
		PageSize: 5,
		ReadMask: &fieldmaskpb.FieldMask{Paths: []string{"identifier", "connection_id", "client_ip"}},
	})
	if err != nil {
		return err
	}
	sessions := []string{}
	for _, s := range response.GetCifsSessions() {
		sessions = append(sessions, fmt.Sprintf("%d on connection %d from %s", s.GetIdentifier(), s.GetConnectionId(), s.GetClientIp()))
	}
	fmt.Printf("cifs: vs1 sessions page 1: %d sessions (%s)\n", len(sessions), strings.Join(sessions, ", "))
	out["cifs_sessions_page"] = len(sessions)
	out["cifs_sessions_next_page_token"] = response.GetNextPageToken() != ""
	return nil
}

// badRequest sends a request the gateway refuses before anything goes
// upstream, and reads which field was wrong from its BadRequest.
func badRequest(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewCifsConnectionsClient(conn)
	ctx, cancel := call()
	defer cancel()
	_, err := client.ListCifsConnections(ctx, &ontapv1.ListCifsConnectionsRequest{SvmName: "vs1", PageSize: -1})
	if status.Code(err) != codes.InvalidArgument {
		return fmt.Errorf("bad request: a negative page_size was answered %v", err)
	}
	e := errorOf(err)
	fmt.Printf("bad request: %s %s, fields %s (as expected)\n", e.Code, e.Reason, strings.Join(e.Fields, ", "))
	out["bad_request"] = map[string]interface{}{"code": e.Code, "reason": e.Reason, "fields": e.Fields}
	return nil
}

func iscsiStory(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewIscsiServicesClient(conn)
	ctx, cancel := call()
	defer cancel()

	created, err := client.CreateIscsiService(ctx, &ontapv1.CreateIscsiServiceRequest{
		IscsiService: &ontapv1.IscsiService{Svm: &ontapv1.SvmRef{Name: proto.String("svm1")}},
	})
	if err != nil {
		return err
	}
	uuid := created.GetSvm().GetUuid() // the service is addressed by its SVM's UUID from here on
	fmt.Printf("iscsi: created the service of svm1 (%s): target %s, alias %s, enabled %t\n",
		uuid, created.GetTarget().GetName(), created.GetTarget().GetAlias(), created.GetEnabled())
	out["created_alias"] = created.GetTarget().GetAlias()
	out["created_enabled"] = created.GetEnabled()

	counted, err := client.ListIscsiServices(ctx, &ontapv1.ListIscsiServicesRequest{CountOnly: true})
	if err != nil {
		return err
	}
	fmt.Printf("iscsi: %d services in the cluster\n", counted.GetTotalSize())
	out["services_total"] = counted.GetTotalSize()

	disabled, err := client.UpdateIscsiService(ctx, &ontapv1.UpdateIscsiServiceRequest{
		IscsiService: &ontapv1.IscsiService{Svm: &ontapv1.SvmRef{Uuid: proto.String(uuid)}, Enabled: proto.Bool(false)},
		UpdateMask:   &fieldmaskpb.FieldMask{Paths: []string{"enabled"}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("iscsi: disabled: enabled %t\n", disabled.GetEnabled())
	out["disabled_enabled"] = disabled.GetEnabled()

	// "*" replaces every updatable field, so enabled=false is sent again.
	renamed, err := client.UpdateIscsiService(ctx, &ontapv1.UpdateIscsiServiceRequest{
		IscsiService: &ontapv1.IscsiService{
			Svm:     &ontapv1.SvmRef{Uuid: proto.String(uuid)},
			Enabled: proto.Bool(false),
			Target:  &ontapv1.IscsiTarget{Alias: proto.String("lab")},
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"*"}},
	})
	if err != nil {
		return err
	}
	fmt.Printf("iscsi: renamed: alias %s\n", renamed.GetTarget().GetAlias())
	out["renamed_alias"] = renamed.GetTarget().GetAlias()

	got, err := client.GetIscsiService(ctx, &ontapv1.GetIscsiServiceRequest{
		SvmUuid:  uuid,
		ReadMask: &fieldmaskpb.FieldMask{Paths: []string{"enabled", "target.alias"}},
	})
	if err != nil {
		return err
	}
	gotJSON, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(got)
	if err != nil {
		return err
	}
	var gotFields map[string]interface{}
	if err := json.Unmarshal(gotJSON, &gotFields); err != nil {
		return err
	}
	fmt.Printf("iscsi: get with read_mask enabled,target.alias: %s\n", gotJSON)
	out["got"] = gotFields

	deleted, err := client.DeleteIscsiService(ctx, &ontapv1.DeleteIscsiServiceRequest{SvmUuid: uuid})
	if err != nil {
		return err
	}
	fields := []string{}
	deleted.ProtoReflect().Range(func(field protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, string(field.Name()))
		return true
	})
	fmt.Printf("iscsi: deleted the service of svm1 (%s)\n", deleted.ProtoReflect().Descriptor().FullName())
	out["deleted_fields"] = fields

	// The one error this story expects: the service is gone.
	_, err = client.GetIscsiService(ctx, &ontapv1.GetIscsiServiceRequest{SvmUuid: uuid})
	if err == nil {
		return errors.New("iscsi: the deleted service is still there")
	}
	if status.Code(err) != codes.NotFound {
		return err
	}
	e := errorOf(err)
	fmt.Printf("iscsi: get after delete: %s %s (as expected)\n", e.Code, e.Reason)
	out["after_delete"] = map[string]interface{}{"code": e.Code, "reason": e.Reason}
	return nil
}

// watchMetrics reads three messages of svm2's iSCSI metrics watch, then
// cancels it: a watch runs until its reader stops or its deadline passes.
func watchMetrics(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewIscsiServicesClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	services, err := client.ListIscsiServices(ctx, &ontapv1.ListIscsiServicesRequest{SvmName: "svm2"})
	if err != nil {
		return err
	}
	if len(services.GetIscsiServices()) != 1 {
		return fmt.Errorf("watch: svm2 has %d iSCSI services", len(services.GetIscsiServices()))
	}
	uuid := services.GetIscsiServices()[0].GetSvm().GetUuid()
	stream, err := client.WatchIscsiServiceMetrics(ctx, &ontapv1.WatchIscsiServiceMetricsRequest{
		SvmUuid: uuid, PollInterval: durationpb.New(time.Second),
	})
	if err != nil {
		return err
	}
	messages := 0
	for messages < 3 {
		message, err := stream.Recv()
		if err != nil {
			return err
		}
		messages++
		metric := message.GetMetric()
		fmt.Printf("watch: svm2 metric at %s: %s, %d read IOPS\n",
			metric.GetTimestamp().AsTime().Format(time.RFC3339), metric.GetStatus(), metric.GetIops().GetRead())
	}
	out["watch"] = map[string]interface{}{"svm": "svm2", "messages": messages}
	return nil
}

// drain reads every CIFS connection of the cluster twice, by List in
// pages of 1,000 and by Stream, each message within grpc-go's default
// 4 MiB receive limit (a larger one fails the call with RESOURCE_EXHAUSTED).
func drain(conn *grpc.ClientConn, out summary) error {
	client := ontapv1.NewCifsConnectionsClient(conn)
	listed, pages, largest := 0, 0, 0
	for token, first := "", true; first || token != ""; first = false {
		ctx, cancel := call()
		response, err := client.ListCifsConnections(ctx, &ontapv1.ListCifsConnectionsRequest{PageSize: 1000, PageToken: token})
		cancel()
		if err != nil {
			return err
		}
		listed += len(response.GetCifsConnections())
		pages++
		if size := proto.Size(response); size > largest {
			largest = size
		}
		token = response.GetNextPageToken()
	}
	fmt.Printf("drain: listed %d connections in %d pages\n", listed, pages)
	ctx, cancel := call()
	defer cancel()
	stream, err := client.StreamCifsConnections(ctx, &ontapv1.StreamCifsConnectionsRequest{})
	if err != nil {
		return err
	}
	streamed, messages := 0, 0
	for {
		message, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		streamed += len(message.GetCifsConnections())
		messages++
		if size := proto.Size(message); size > largest {
			largest = size
		}
	}
	fmt.Printf("drain: streamed %d connections in %d messages; the largest message %d bytes\n", streamed, messages, largest)
	out["listed"], out["pages"] = listed, pages
	out["streamed"], out["messages"] = streamed, messages
	out["largest_message_bytes"] = largest
	return nil
}

func main() {
	drainMode := flag.Bool("drain", false, "read every CIFS connection by List in pages of 1,000 and by Stream")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: client [-drain] HOST:PORT")
		os.Exit(2)
	}
	// grpc-go's defaults, receive limit included: nothing is raised.
	conn, err := grpc.Dial(flag.Arg(0), grpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	out := summary{}
	steps := []func(*grpc.ClientConn, summary) error{listCifsConnections, listCifsSessions, badRequest, iscsiStory, watchMetrics}
	if *drainMode {
		steps = []func(*grpc.ClientConn, summary) error{drain}
	}
	for _, step := range steps {
		if err := step(conn, out); err != nil {
			report(err)
			os.Exit(1)
		}
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func report(err error) {
	if _, ok := status.FromError(err); !ok {
		fmt.Fprintln(os.Stderr, "error:", err)
		return
	}
	e := errorOf(err)
	fmt.Fprintf(os.Stderr, "error: %s: %s\n", e.Code, e.Message)
	if e.Reason != "" {
		keys := []string{}
		for k := range e.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		pairs := []string{}
		for _, k := range keys {
			pairs = append(pairs, k+"="+e.Metadata[k])
		}
		fmt.Fprintf(os.Stderr, "  ErrorInfo reason %s (%s)\n", e.Reason, strings.Join(pairs, ", "))
	}
}
