package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// Bucket and key names of schema 2.
var (
	bucketMeta      = []byte("meta")
	bucketEdgeIndex = []byte("edge_index") // edge key → edge id (8)
	bucketEdges     = []byte("edges")      // edge id (8) → edge key, pods, nodes, processes
	bucketSeen      = []byte("seen")       // edge id (8) → first, last seen (unix ms)
	bucketCells     = []byte("cells")      // tier (1), block start (8, sign-flipped), edge id (8) → block
	bucketBlocks    = []byte("blocks")     // tier (1), block start (8, sign-flipped) → blocks at it (uvarint)
	bucketWorkloads = []byte("workloads")  // workload key → topology.Workload (JSON)
	bucketRuns      = []byte("runs")       // sequence (8) → baseline.Run (JSON)
	bucketDelivered = []byte("delivered")  // sender → sequence (8)
	bucketWaiting   = []byte("waiting")    // index (8) → flow record (JSON)
	// bucketAttachments is made by the first delta with attachments, so
	// files written before it need no migration.
	bucketAttachments = []byte("attachments") // name → the value, opaque

	allBuckets = [][]byte{bucketMeta, bucketEdgeIndex, bucketEdges, bucketSeen, bucketCells, bucketBlocks, bucketWorkloads, bucketRuns, bucketDelivered, bucketWaiting}

	keySchema  = []byte("schema") // the version as decimal text, the one value without a checksum
	keyTiers   = []byte("tiers")  // the retention and each tier's state
	keyCluster = []byte("cluster")
)

// SchemaVersion is the layout of the files this package writes.
const SchemaVersion = 3

// Edge key: source end, destination end, port (2), protocol (1). An end
// is its kind (1), then for a workload its namespace, kind and name, for
// a host its node and address, for an external end its address, for an
// unresolved end its address and reason (1), for the API server and the
// own node nothing more; strings and addresses are
// length-prefixed (uvarint), an invalid address has length zero.
func edgeKey(e topology.Edge) []byte { return appendEdgeKey(make([]byte, 0, 64), e) }

// appendEdgeKey appends an edge's key to b.
func appendEdgeKey(b []byte, e topology.Edge) []byte {
	b = appendEnd(b, e.Src)
	b = appendEnd(b, e.Dst)
	b = binary.BigEndian.AppendUint16(b, e.Port)
	return append(b, byte(e.Proto))
}

func appendEnd(b []byte, e topology.End) []byte {
	b = append(b, byte(e.Kind))
	switch e.Kind {
	case topology.KindWorkload:
		b = appendString(b, e.Workload.Namespace)
		b = appendString(b, e.Workload.Kind)
		b = appendString(b, e.Workload.Name)
	case topology.KindHost:
		b = appendString(b, e.Node)
		b = appendAddr(b, e.Addr)
	case topology.KindExternal:
		b = appendAddr(b, e.Addr)
	case topology.KindUnresolved:
		b = appendAddr(b, e.Addr)
		b = append(b, byte(e.Reason))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, 0)
	}
	raw := a.AsSlice()
	return append(append(b, byte(len(raw))), raw...)
}

// decodeEdgeKey reads an edge key; it must be all of k.
func decodeEdgeKey(k []byte) (topology.Edge, error) {
	d := decoder{b: k}
	e := topology.Edge{Src: d.end(), Dst: d.end()}
	e.Port = d.uint16()
	e.Proto = flow.Proto(d.byte())
	if err := d.done(); err != nil {
		return topology.Edge{}, fmt.Errorf("edge key %x: %w", k, err)
	}
	if !bytes.Equal(edgeKey(e), k) {
		return topology.Edge{}, fmt.Errorf("%w: edge key %x is not in its one form", ErrCorrupt, k)
	}
	return e, nil
}

func (d *decoder) end() topology.End {
	e := topology.End{Kind: topology.Kind(d.byte())}
	switch e.Kind {
	case topology.KindWorkload:
		e.Workload = topology.WorkloadRef{Namespace: d.string(), Kind: d.string(), Name: d.string()}
	case topology.KindHost:
		e.Node = d.string()
		e.Addr = d.addr()
	case topology.KindExternal:
		e.Addr = d.addr()
	case topology.KindUnresolved:
		e.Addr = d.addr()
		e.Reason = topology.Reason(d.byte())
	case topology.KindAPIServer, topology.KindOwnNode:
	default:
		d.fail("end kind %d", e.Kind)
	}
	return e
}

// idKey is an edge id as a key.
func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id) }

// appendTime appends unix seconds so that byte order is time order, before
// 1970 too.
func appendTime(b []byte, secs int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(secs)^(1<<63))
}

func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// appendCellKey appends a block's key: tier, block start, edge id.
func appendCellKey(b []byte, tier int, start int64, id uint64) []byte {
	b = appendTime(append(b, byte(tier)), start)
	return binary.BigEndian.AppendUint64(b, id)
}

// tierPrefix is the first key of a tier's blocks from start on.
func tierPrefix(tier int, start int64) []byte { return appendTime([]byte{byte(tier)}, start) }

func parseCellKey(k []byte) (tier int, start int64, id uint64, ok bool) {
	if len(k) != 17 {
		return 0, 0, 0, false
	}
	return int(k[0]), readTime(k[1:9]), binary.BigEndian.Uint64(k[9:]), true
}
