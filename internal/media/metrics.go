package media

import "github.com/prometheus/client_golang/prometheus"

// metrics are the media server's Prometheus metrics.
type metrics struct {
	uploads, uploadBytes, dedup     prometheus.Counter
	downloads, downloadBytes, swept prometheus.Counter
	slots                           prometheus.Counter
	rejections                      *prometheus.CounterVec
}

// Rejection reasons (the "reason" label of parley_media_rejections_total).
const (
	reasonSignature  = "signature"
	reasonExpired    = "expired"
	reasonTooLarge   = "too_large"
	reasonQuota      = "quota"
	reasonUsed       = "slot_used"
	reasonBusy       = "busy"
	reasonHash       = "hash_mismatch"
	reasonBadRequest = "bad_request"
	reasonNotFound   = "not_found"
	reasonRange      = "range"
	reasonInternal   = "internal"
)

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "parley", Subsystem: "media", Name: name, Help: help})
	}
	m := &metrics{
		slots:         c("slots_total", "Upload slots handed out."),
		uploads:       c("uploads_total", "Uploads completed."),
		uploadBytes:   c("upload_bytes_total", "Bytes received in uploads (including partial ones)."),
		dedup:         c("dedup_total", "Completed uploads whose bytes were already stored."),
		downloads:     c("downloads_total", "GET requests answered with a body (200 or 206)."),
		downloadBytes: c("download_bytes_total", "Bytes sent in downloads."),
		swept:         c("swept_total", "Slot records, blobs and stale partial uploads removed by the retention sweeper."),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "parley", Subsystem: "media",
			Name: "rejections_total", Help: "Refused requests and slot requests, by reason."}, []string{"reason"}),
	}
	// Every reason from the start, at 0: an alert on one (a rate of quota
	// refusals) has a series before the first refusal.
	for _, r := range rejectionReasons() {
		m.rejections.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.slots, m.uploads, m.uploadBytes, m.dedup, m.downloads, m.downloadBytes, m.swept, m.rejections)
	}
	return m
}

// rejectionReasons are every value of the rejections' reason label.
func rejectionReasons() []string {
	return []string{reasonSignature, reasonExpired, reasonTooLarge, reasonQuota, reasonUsed, reasonBusy,
		reasonHash, reasonBadRequest, reasonNotFound, reasonRange, reasonInternal}
}
