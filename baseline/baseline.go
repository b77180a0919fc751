package baseline

import (
	"context"
	"net/netip"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// Store is a baseline. Implementations are safe for concurrent use; each
// method is one transaction.
type Store interface {
	// Apply adds a delta: its cells to the edges' counts, its pods, nodes
	// and processes to their sets, its workloads and cluster facts, and its
	// delivery marks and waiting records, all or nothing.
	Apply(ctx context.Context, d *Delta) (Applied, error)
	// Window returns the edges seen in [from, to), rounded out to whole
	// buckets, each tier answering at its own width.
	Window(ctx context.Context, from, to time.Time) (*topology.Window, error)
	// Delivered returns each sender's last batch held (see Delta.Delivered).
	Delivered(ctx context.Context) (map[string]uint64, error)
	// Waiting returns the records stored as waiting for the cluster state.
	Waiting(ctx context.Context) ([]flow.Record, error)
	// Attachment returns the value last stored under name by a delta's
	// Attachments, or nil when there is none.
	Attachment(ctx context.Context, name string) ([]byte, error)
	// RecordRun records a learning run.
	RecordRun(ctx context.Context, r Run) error
	// Retain rolls buckets older than a tier keeps into the next tier and
	// deletes what is past the last, as of now.
	Retain(ctx context.Context, now time.Time) (Retained, error)
	// Status describes the store.
	Status(ctx context.Context) (Status, error)
	// Bucket is the width of the finest tier's buckets.
	Bucket() time.Duration
	// Close releases the store.
	Close() error
}

// Delta is what one commit adds to a baseline. It is a plain value: the
// learner that made it keeps no reference to it.
type Delta struct {
	// Edges are the edges seen, each at most once.
	Edges []EdgeDelta
	// Workloads replaces the workloads it names; the others stay, since
	// their edges may still be in a window.
	Workloads map[topology.WorkloadRef]topology.Workload
	// Cluster, when set, replaces the cluster facts.
	Cluster *topology.Cluster
	// Delivered is, for each sender named, the sequence number of its last
	// batch of records whose records are all in this delta or an earlier
	// one: a batch sent again can then be recognised and not counted twice.
	Delivered map[string]uint64
	// Resent says the delta holds one batch only (Delivered names it),
	// sent again after its sender had no answer: a store that several
	// writers share may hold it already from another, and counts it only
	// when no other delta holds the same batch. A store with one writer
	// can ignore it.
	Resent bool
	// ReplaceWaiting replaces the stored waiting records with Waiting.
	ReplaceWaiting bool
	Waiting        []flow.Record
	// Attachments are values kept beside the baseline for another
	// component (the aggregator's staged would-deny state), committed in
	// the same transaction as the rest of the delta, so that they describe
	// exactly what the baseline holds. The store does not interpret them:
	// each replaces the value stored under its name, an empty value
	// removes it, and Store.Attachment reads it back. Names are short
	// ASCII; a value is at most MaxAttachmentBytes.
	Attachments map[string][]byte
	// Answers are the DNS answers clients received: each name with one of
	// the addresses it resolved to, and when.
	Answers []Answer
}

// Answer is a name resolving to an address, received from the first to
// the last moment given, unix milliseconds.
type Answer struct {
	Name        string
	Addr        netip.Addr
	First, Last int64
}

// NameSeen is a DNS name behind an edge's destination, with the first and
// last moments, unix milliseconds, of the connections it led to.
type NameSeen struct {
	Name        string
	First, Last int64
}

// MaxAttachmentBytes bounds one value of Delta.Attachments.
const MaxAttachmentBytes = 256 << 20

// EdgeDelta is one edge's evidence in a delta.
type EdgeDelta struct {
	Edge topology.Edge
	// Cells are its counts per bucket of the finest tier, in any order.
	Cells []Cell
	// SrcPods and DstPods are identities of the pods seen at each end
	// (never zero); Nodes the nodes that reported it; SrcComms and DstComms
	// the process names recorded at each end.
	SrcPods, DstPods   []uint64
	Nodes              []string
	SrcComms, DstComms []string
	// Names are the DNS names whose answers, received by the client's pod
	// before it connected, led it to the destination (an external end).
	Names []NameSeen
}

// Cell is an edge's evidence in one bucket: connections as clients and as
// servers reported them, and the first and last moments seen.
type Cell struct {
	// Start is the bucket's start, unix seconds.
	Start int64
	// Client and Server are the connections each side reported.
	Client, Server uint64
	// Estimated is, of Client, the connections given to this edge by
	// dividing a count through a Service whose backends span several
	// workloads when no server reported in the bucket: an estimate. Cells
	// merge it by saturating add, as Client.
	Estimated uint64
	// FirstMS and LastMS are the first and last moments seen, as
	// milliseconds after Start.
	FirstMS, LastMS uint32
}

// EstimatedPart is the part of a cell's count, as windows count it (the
// larger of client and server), that rests on an estimated split: none when
// the servers reported as many or more, else the estimated connections up
// to the excess of the clients' count over the servers'. A cell of a
// coarser tier, whose client and server both hold that count, keeps this
// part as its Estimated.
func EstimatedPart(client, server, estimated uint64) uint64 {
	if client <= server {
		return 0
	}
	return min(estimated, client-server)
}

// Applied is what Apply did.
type Applied struct {
	// NewEdges counts the delta's edges the store did not hold before.
	NewEdges int
}

// Run is a learning run's record.
type Run struct {
	Source      string            `json:"source"`
	Started     time.Time         `json:"started"`
	Records     uint64            `json:"records"`     // records read
	Connections uint64            `json:"connections"` // their counts added up
	Stored      uint64            `json:"stored"`      // records in committed batches
	StoredLines int               `json:"stored_lines"`
	Batches     int               `json:"batches"`
	Edges       int               `json:"edges"`     // distinct edges this run
	NewEdges    int               `json:"new_edges"` // of which new to the baseline
	Unresolved  map[string]uint64 `json:"unresolved,omitempty"`
	Waited      uint64            `json:"waited,omitempty"`        // records that waited for the cluster state
	WaitedOut   uint64            `json:"waited_out,omitempty"`    // of which stored unresolved after the wait
	WaitFull    uint64            `json:"wait_overflow,omitempty"` // records that could not wait: too many waited
	Ignored     map[string]uint64 `json:"ignored,omitempty"`
	// Split counts the client-side records through a Service whose
	// backends span several workloads: their counts were divided among
	// the backends in proportion to what the servers reported in the same
	// bucket (of the same batch). SplitEstimated counts the buckets where
	// no server did, divided as the servers reported at other times of
	// the run, or evenly: an estimate.
	Split          uint64 `json:"split,omitempty"`
	SplitEstimated uint64 `json:"split_estimated,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Tier is one level of retention: buckets of a width, kept for a while.
type Tier struct {
	Bucket time.Duration
	// Keep is how long its buckets are kept; zero keeps them for ever.
	Keep time.Duration
}

// Retention is a store's tiers, finest first: each tier's buckets, once
// older than its Keep, roll up into the next tier; past the last they are
// deleted.
type Retention []Tier

// Retained is what Retain did.
type Retained struct {
	RolledUp     int // cells rolled into a coarser tier
	Deleted      int // cells deleted past the last tier
	EdgesRemoved int // edges with nothing left
}

// Status describes a store.
type Status struct {
	Schema    int          `json:"schema"`
	FileBytes int64        `json:"file_bytes"`
	Edges     int          `json:"edges"`
	Tiers     []TierStatus `json:"tiers"`
	Runs      []Run        `json:"runs"`
}

// TierStatus is one tier of a store.
type TierStatus struct {
	Bucket string    `json:"bucket"` // "1m"
	Keep   string    `json:"keep"`   // "48h"; "all" for ever
	Cells  int       `json:"cells"`
	Oldest time.Time `json:"oldest,omitzero"`
}
