package server

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrUnavailable says the aggregator cannot take a batch now: its sink
	// stopped or is shutting down.
	ErrUnavailable = errors.New("aggregator unavailable")
	// ErrBusy says the most request bodies the server reads at once are
	// being read (Options.MaxUploads).
	ErrBusy = errors.New("aggregator busy")
	// ErrSlow says a request body arrived more slowly than the server
	// accepts (Options.MinBodyRate).
	ErrSlow = errors.New("request body too slow")
)
