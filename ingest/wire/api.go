package wire

// Paths of the aggregator's API.
const (
	PathBatches = "/api/v1/batches"
	PathWindow  = "/api/v1/window"
	PathReports = "/api/v1/reports"
)

// HeaderResent, set to "1" on a batch, says its sender sent it before
// and had no answer (or does not know, after a restart): an aggregator
// that shares its store with others checks whether the store holds it.
const HeaderResent = "Flowpol-Resent"

// BatchResponse is the aggregator's answer to an accepted batch.
type BatchResponse struct {
	Agent     string `json:"agent"`
	Seq       uint64 `json:"seq"`
	Records   int    `json:"records"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// Report is what a recommendation run tells the aggregator, for its
// metrics.
type Report struct {
	GenerateSeconds float64 `json:"generate_seconds"`
	Policies        int     `json:"policies"`
	Changes         int     `json:"changes"`
}
