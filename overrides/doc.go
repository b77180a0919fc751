// Package overrides reads the overrides file, versioned in git beside the
// policies, with which a person shapes what generate proposes without
// editing its output: edges or peers to exclude though observed, peers to
// allow though not observed, external addresses to widen or collapse,
// selector labels to use, and namespaces and workloads to skip.
//
// Load checks the whole file: an unknown key, a bad peer, CIDR, port or
// selector is an error naming the file and line. Each override records its
// line, so that one that matched nothing can be reported.
package overrides
