package generator

import (
	"fmt"
	"slices"

	"github.com/flowpol/flowpol/internal/duration"
	"github.com/flowpol/flowpol/topology"
)

// holdShort drops the drafts of workloads observed over less than
// MinCoverage and says so, one line each.
func (g *gen) holdShort() []string {
	if g.opts.MinCoverage <= 0 {
		return nil
	}
	var out []string
	for _, ref := range g.refs() {
		c := g.coverage[ref]
		if c.Span() >= g.opts.MinCoverage {
			continue
		}
		delete(g.policies, ref)
		g.short[ref.Namespace] = true
		out = append(out, fmt.Sprintf("%s: observed %s (%s to %s), less than the minimum coverage %s: no policy",
			ref, c, stamp(c.First), stamp(c.Last), duration.Format(g.opts.MinCoverage)))
	}
	return out
}

// denyNamespaces are the namespaces of the policies that get a default
// deny: not those with a workload held back for MinCoverage, which the
// deny would cut off with no policy to let its traffic through. It says
// which it left out.
func (g *gen) denyNamespaces(namespaces []string, res *Result) []string {
	var out []string
	for _, ns := range distinct(namespaces) {
		if g.short[ns] {
			res.HeldBack = append(res.HeldBack, fmt.Sprintf("%s/%s: no default deny: workloads in it are held back for the minimum coverage", ns, DefaultDenyName))
			continue
		}
		out = append(out, ns)
	}
	slices.Sort(res.HeldBack)
	return out
}

// notRun warns of the CronJobs and Jobs in scope with no run inside the
// window: what traffic they have is in no policy.
func (g *gen) notRun() []string {
	var out []string
	for _, b := range g.w.NotRun() {
		ns := b.Ref.Namespace
		if slices.Contains(g.opts.SkipNamespaces, ns) || g.opts.Namespace != "" && ns != g.opts.Namespace {
			continue
		}
		out = append(out, fmt.Sprintf("%s: no run inside the window (%s): its traffic is not in these policies", b.Ref, lastRun(b)))
	}
	return out
}

func lastRun(b topology.BatchRun) string {
	verb := "last ran"
	if b.Ref.Kind == "CronJob" {
		verb = "last scheduled"
	}
	if b.Last.IsZero() {
		return "never " + verb[len("last "):]
	}
	return verb + " " + stamp(b.Last)
}
