package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// database is the connections to a store: to the server it was given
// (through which every read and insert goes) and, when sharded, to each
// shard, for what a Distributed table does not pass on (DDL, dropping
// partitions).
type database struct {
	opts   *dsn
	conn   driver.Conn
	shards []shardConn // the entry server alone when not sharded
	now    func() time.Time
}

// shardConn is a connection to one server.
type shardConn struct {
	addr string
	conn driver.Conn
}

func (c shardConn) exec(ctx context.Context, q string) error {
	if err := c.conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("on %s: %w", c.addr, err)
	}
	return nil
}

func (c shardConn) execAll(ctx context.Context, qs []string) error {
	for _, q := range qs {
		if err := c.exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func dial(ctx context.Context, d *dsn, addrs []string) (driver.Conn, error) {
	conn, err := ch.Open(&ch.Options{
		Addr: addrs, Auth: ch.Auth{Database: "default", Username: d.user, Password: d.password},
		TLS: d.tls, DialTimeout: d.dialTimeout, MaxOpenConns: 16, MaxIdleConns: 4,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
	})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, d.dialTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		return nil, errors.Join(fmt.Errorf("%w: %w", ErrUnavailable, err), conn.Close())
	}
	return conn, nil
}

func openDatabase(ctx context.Context, d *dsn, now func() time.Time) (*database, error) {
	conn, err := dial(ctx, d, d.addrs)
	if err != nil {
		return nil, err
	}
	db := &database{opts: d, conn: conn, now: func() time.Time { return now().UTC() }}
	if d.shards == "" {
		db.shards = []shardConn{{addr: d.addrs[0], conn: conn}}
		return db, nil
	}
	if err := db.dialShards(ctx); err != nil {
		return nil, errors.Join(err, db.close())
	}
	return db, nil
}

// dialShards connects to each shard of the ClickHouse cluster, as
// system.clusters names them.
func (db *database) dialShards(ctx context.Context) error {
	rows, err := db.conn.Query(ctx, "SELECT host_address, port FROM system.clusters WHERE cluster = "+quoteString(db.opts.shards)+" ORDER BY shard_num, replica_num")
	if err != nil {
		return fmt.Errorf("read the shards of %s: %w", db.opts.shards, err)
	}
	var addrs []string
	for rows.Next() {
		var host string
		var port uint16
		if err := rows.Scan(&host, &port); err != nil {
			return errors.Join(err, rows.Close())
		}
		addrs = append(addrs, net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: shards=%s: the server has no such cluster in system.clusters (remote_servers)", ErrURL, db.opts.shards)
	}
	for _, a := range addrs {
		c, err := dial(ctx, db.opts, []string{a})
		if err != nil {
			return fmt.Errorf("shard %s: %w", a, err)
		}
		db.shards = append(db.shards, shardConn{addr: a, conn: c})
	}
	return nil
}

func (db *database) close() error {
	err := db.conn.Close()
	if db.opts.shards != "" {
		for _, s := range db.shards {
			err = errors.Join(err, s.conn.Close())
		}
	}
	return err
}

// onShards runs fn on every shard.
func (db *database) onShards(ctx context.Context, fn func(context.Context, shardConn) error) error {
	for _, s := range db.shards {
		if err := fn(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// table is the name reads and inserts use: the Distributed table when
// sharded.
func (db *database) table(t table) string {
	return quoteIdent(db.opts.database) + "." + quoteIdent(t.name)
}

// local is the name of a table's MergeTree on each server.
func (db *database) local(t table) string {
	return quoteIdent(db.opts.database) + "." + quoteIdent(db.localName(t))
}

// localName is the MergeTree's name alone, as system tables have it.
func (db *database) localName(t table) string {
	if db.opts.shards == "" {
		return t.name
	}
	return t.name + "_local"
}

// ctx gives a statement the settings every statement runs with: an
// insert into a Distributed table returns once every shard holds its
// rows; a statement uses the threads the URL gives (one by default: a
// window's aggregation then costs the server less CPU, having no partial
// states to merge, and a window's queries, run at once, keep more than
// one of the server's cores busy, as many clusters' windows do).
func (db *database) ctx(ctx context.Context) context.Context {
	set := ch.Settings{}
	if db.opts.shards != "" {
		set["insert_distributed_sync"] = 1
	}
	if db.opts.threads > 0 {
		set["max_threads"] = db.opts.threads
	}
	if len(set) == 0 {
		return ctx
	}
	return ch.Context(ctx, ch.WithSettings(set))
}

// insert writes rows into a table in one block, with its explicit column
// list.
func (db *database) insert(ctx context.Context, t table, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(db.ctx(ctx), "INSERT INTO "+db.table(t)+" ("+t.names()+")")
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	for _, r := range rows {
		if err := b.Append(r...); err != nil {
			return errors.Join(fmt.Errorf("insert into %s: %w", t.name, err), b.Abort())
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	return nil
}

// query runs a SELECT and calls fn for each row.
func (db *database) query(ctx context.Context, q string, fn func(driver.Rows) error) error {
	rows, err := db.conn.Query(db.ctx(ctx), q)
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errors.Join(err, rows.Close())
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}
