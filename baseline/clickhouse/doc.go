// Package clickhouse is the baseline.Store in ClickHouse, for many
// aggregators and many Kubernetes clusters: Open takes a
// clickhouse://HOST:PORT[,HOST:PORT]/DATABASE?cluster=NAME URL (native
// protocol, github.com/ClickHouse/clickhouse-go/v2; user and password in
// the URL or password_file=, TLS with secure=true and ca_file=), and
// every row, read or written, is of that one cluster.
//
// Schema. Created on first use and versioned (the schema table); an older
// schema is migrated on open by the steps of migrations, a newer one is
// refused. Tables are MergeTree, partitioned by day where they grow:
// cells (per tier, per edge, per bucket: client and server connections,
// the estimated part of them (schema 3), first and last moments), edges (their ends, pods, nodes and processes;
// written again each day an edge is seen), workloads and cluster facts
// (the latest version wins), commits, waiting records (per writer),
// runs and settings (the retention). A column added later is a line in
// schema.go and an addColumn step. With shards=NAME the tables are
// MergeTrees on every shard of the ClickHouse cluster NAME (system.clusters)
// behind Distributed tables of the same names, inserted into
// synchronously; DDL and partition drops go to each shard.
//
// Windows are summed in ClickHouse: per cell the larger of client and
// server, per block (a bucket of the next tier) the first and last moments
// at the embedded store's precision, per edge the total; so a window is
// deep-equal to what baseline/boltdb answers for the same deltas.
// Retention moves each tier's cut as boltdb does: the cells before it are
// rolled into the next tier by one INSERT … SELECT, a rollup commit moves
// the cut, and the day partitions wholly before a cut are dropped. A day
// partition holds every cluster's rows: it is dropped once it is before
// the tier's cut of every cluster in the database, and until then a
// cluster past it deletes its own rows of it with an ALTER … DELETE
// mutation (asynchronous, one at a time per shard; rows before a cut
// never count, so neither waits on the other). Nothing
// uses TTL, LowCardinality, Map or DateTime64, so the SQL runs on 18.16
// and on current releases alike.
//
// Retention also trims, once a month is over, the tables partitioned by
// the month their rows were written in: commits, names, answers and
// attachments keep only what can still change a read (each sender's last
// batch, commits whose cells still count and the other commits of their
// batches, the rollups whose cells still count, the attachments read, the
// names and answers seen since the last tier's cut), copied into the
// current month, and the month is dropped (see trim.go).
//
// Exactly once. An Apply writes its rows (cells, edges, workloads,
// waiting records, attachments) tagged with a fresh commit id, then,
// last, its commit:
// one row per agent batch it holds (sender, sequence), in one insert
// block sharded by the commit id, so the commit lands on one shard
// whole or not at all. Reads count only rows whose commit is valid:
//
//   - every delta's commit. Agents ship one batch at a time and send a
//     batch again only when they had no answer, so a batch is in at most
//     one delta: the one the aggregator first given it committed, if
//     that one got so far.
//   - of the resent deltas (baseline.Delta.Resent: one batch each, sent
//     again after a timeout, a failover or an agent restart), the one
//     with the least id for its batch, and only if no delta holds the
//     batch. The aggregator that takes a resent batch first looks for it
//     in the store (Delivered) and commits it alone only when it is not
//     there; if the first aggregator was slow rather than dead and its
//     commit lands later, the resent delta stops counting, and the batch
//     is counted once either way.
//   - the rollup commits on each tier's chain: from no cut, the commit
//     that moved the cut on from where it stood (the least id when two
//     writers rolled up the same blocks), and so on.
//
// A writer killed between its rows and its commit leaves rows that never
// count (dropped with their partitions); its agents get no answer and
// send the batch again, to another aggregator. DNS names and answers
// carry no commit: kept as first and last moments (min and max), a batch
// written twice adds nothing to them, and those of a batch whose commit
// never landed are what its resending brings again. The same argument holds
// with ClickHouse's own deduplication of identical blocks switched on or
// off, and needs no replicated tables, no insert_deduplication_token (which
// 18.16 lacks) and no coordination between aggregators.
//
// Caveats. Counts add with ClickHouse's sum, which wraps at 2^64 where
// the embedded store saturates. The sets of pods, nodes and processes,
// an edge's names and a name's addresses are bounded as the embedded
// store bounds them, but by sorting, not by arrival. An attachment is the
// last any writer committed: with several aggregators staging policies,
// the staged record read at start is that of the one that committed last. The Store is safe for concurrent
// use; it needs no privileges, only a ClickHouse user that may create
// tables in its database.
package clickhouse
