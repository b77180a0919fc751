package server

import "errors"

// ErrUnavailable says the aggregator cannot take a batch now: its sink
// stopped or is shutting down. Check it with errors.Is.
var ErrUnavailable = errors.New("aggregator unavailable")
