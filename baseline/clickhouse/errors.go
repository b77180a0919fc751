package clickhouse

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrURL is a store URL that cannot be used.
	ErrURL = errors.New("bad clickhouse store URL")
	// ErrSchema is a store whose schema this build cannot read.
	ErrSchema = errors.New("unsupported schema")
	// ErrUnavailable is a ClickHouse server that does not answer.
	ErrUnavailable = errors.New("clickhouse unavailable")
	// ErrCluster is a Kubernetes cluster the URL must name, or names
	// wrongly.
	ErrCluster = errors.New("cluster")
	// ErrBadCell is a cell the store cannot hold.
	ErrBadCell = errors.New("cell out of range")
)
