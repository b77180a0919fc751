package demo

import (
	"io"
	"time"
)

// Options configure a demo run.
type Options struct {
	// Flowpol is the flowpol program to run. Zero means "flowpol" beside
	// this program's executable when there is one, else on $PATH.
	Flowpol string
	// FlowpolEnv is added to flowpol's environment (tests use it to run
	// themselves as flowpol).
	FlowpolEnv []string
	// Learn is how long flowpol learns while the load generator drives the
	// app; zero means 30 s.
	Learn time.Duration
	// Dir keeps what the demo writes (inventory, baseline, policies, the
	// topology page). Zero means a temporary directory, removed at the end.
	Dir string
	// Prefix names every network namespace and cgroup the demo makes, and
	// finds a killed run's leftovers. Zero means "fpdemo-".
	Prefix string
	// CgroupRoot is the cgroup2 mount; zero means /sys/fs/cgroup/unified
	// when that is one, else /sys/fs/cgroup.
	CgroupRoot string
	// Out receives the demo's story, Err flowpol's warnings and logs; nil
	// discards them.
	Out, Err io.Writer
}
