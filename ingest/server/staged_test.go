package server_test

import (
	"context"
	"path/filepath"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/internal/testagg"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/staged"
)

// The sink decides each commit under the staged set, and the record
// moves only with the baseline: a commit that fails leaves both as they
// were, and the record stored is the one served. If it failed, the
// would-deny counts could run ahead of the baseline, or be lost on a
// restart.
func TestSinkStaged(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.LoadFile(filepath.Join("..", "..", "testdata", "example", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltdb.Open(filepath.Join(dir, "f.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	denyAPI := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api"}, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	tr, err := staged.New(staged.Options{Policies: []networkingv1.NetworkPolicy{denyAPI}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket(), KeepWaiting: true})
	if err != nil {
		t.Fatal(err)
	}
	var firsts []string
	sink, err := server.NewSink(context.Background(), store, l, server.SinkOptions{Staged: tr, FirstDenials: func(p []string) { firsts = append(firsts, p...) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sink.Run(ctx) }()
	deliver := func(seq uint64, count uint64) error {
		_, err := sink.Deliver(context.Background(), &wire.Batch{Agent: "a", Seq: seq, Node: "node-a", Records: []flow.Record{testagg.FrontendToAPI(int(seq), count)}}, false)
		return err
	}
	if err := deliver(1, 3); err != nil {
		t.Fatal(err)
	}
	if r := tr.Report(); len(r.Denials) != 1 || r.Denials[0].Count != 3 || len(firsts) != 1 {
		t.Fatalf("after one commit: %+v, first denials %v; want the frontend's 3 connections to the api, and one first denial", r.Denials, firsts)
	}
	stored, err := store.Attachment(context.Background(), staged.AttachmentName)
	if err != nil || stored == nil {
		t.Fatalf("no staged record stored with the batch: %v", err)
	}
	again, err := staged.New(staged.Options{Policies: []networkingv1.NetworkPolicy{denyAPI}, State: stored})
	if err != nil {
		t.Fatal(err)
	}
	if r := again.Report(); len(r.Denials) != 1 || r.Denials[0].Count != 3 {
		t.Errorf("the stored record reads back as %+v", r.Denials)
	}

	if err := store.Close(); err != nil { // the next commit fails
		t.Fatal(err)
	}
	if err := deliver(2, 5); err == nil {
		t.Fatal("a batch was acknowledged with the baseline closed")
	}
	<-done
	if r := tr.Report(); r.Denials[0].Count != 3 || r.Policies[0].Connections != 3 {
		t.Errorf("a failed commit moved the record: %+v", r.Denials[0])
	}
	if len(firsts) != 1 {
		t.Errorf("first denials %v, want one", firsts)
	}
}
