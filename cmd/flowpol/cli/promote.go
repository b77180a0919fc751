package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/staged"
)

// checkPromote refuses --promote-after without what it needs.
func (o *recommendOptions) checkPromote() error {
	switch {
	case o.promote == 0:
		return nil
	case !o.apply:
		return errors.New("--promote-after says which policies --apply applies: give --apply")
	case len(o.server.urls) == 0:
		return errors.New("--promote-after reads the aggregator's staged record: give --server URL")
	}
	return nil
}

// promotion keeps to rec.apply the generated policies the aggregator has
// staged unchanged, and found clean, for the promotion period as of now;
// the others stay staged, each with why in rec.held.
func (o *recommendOptions) promotion(ctx context.Context, rec *recommendation, now time.Time) error {
	c, err := o.server.client()
	if err != nil {
		return err
	}
	st, err := c.Staged(ctx)
	if err != nil {
		return fmt.Errorf("--promote-after: %w", err)
	}
	byName := make(map[string]wire.StagedPolicy, len(st.Policies))
	for _, p := range st.Policies {
		byName[p.Policy] = p
	}
	rec.apply = nil
	for i := range rec.policies {
		p := &rec.policies[i]
		why := holdReason(p, byName, now, o.promote)
		if why == "" {
			rec.apply = append(rec.apply, *p)
			continue
		}
		rec.held = append(rec.held, staged.Name(p)+": "+why)
	}
	return nil
}

// holdReason says why a generated policy may not be promoted yet, or ""
// when it may.
func holdReason(p *networkingv1.NetworkPolicy, byName map[string]wire.StagedPolicy, now time.Time, period time.Duration) string {
	sp, ok := byName[staged.Name(p)]
	switch {
	case !ok:
		return "not staged at the aggregator yet"
	case sp.Fingerprint != staged.Fingerprint(p):
		return "changed since it was staged; the new version must be staged and clean for " + roundDuration(period.Seconds())
	case now.Sub(sp.StagedSince) < period:
		return fmt.Sprintf("staged for %s, less than %s", roundDuration(now.Sub(sp.StagedSince).Seconds()), roundDuration(period.Seconds()))
	case now.Sub(sp.CleanSince) < period:
		return fmt.Sprintf("would deny %s (%d flows, last found %s); clean for %s, less than %s", connectionsText(sp.WouldDeny), sp.Flows,
			sp.CleanSince.UTC().Format(time.RFC3339), roundDuration(max(0, now.Sub(sp.CleanSince).Seconds())), roundDuration(period.Seconds()))
	}
	return ""
}
