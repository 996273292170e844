package bench

import "time"

// Report is everything one run measured. It is also the JSON output.
type Report struct {
	Target    string           `json:"target"` // the server's address
	Date      time.Time        `json:"date"`
	Devices   int              `json:"devices"`
	BodySize  int              `json:"body_size"`
	Login     *LoginResult     `json:"login,omitempty"`
	Idle      *IdleResult      `json:"idle,omitempty"`
	KeepAlive *KeepAliveResult `json:"keepalive,omitempty"`
	Steps     []StepResult     `json:"open_loop,omitempty"`
	Closed    *StepResult      `json:"closed_loop,omitempty"`
	Offline   *OfflineResult   `json:"offline,omitempty"`
	Groups    []GroupResult    `json:"groups,omitempty"`
	Upgrade   *UpgradeResult   `json:"upgrade,omitempty"`
	Notes     []string         `json:"notes,omitempty"`
}

// LoginResult is the login ramp.
type LoginResult struct {
	Devices   int       `json:"devices"`
	InFlight  int       `json:"in_flight"`
	Seconds   float64   `json:"seconds"`
	PerSecond float64   `json:"logins_per_second"`
	Latency   Quantiles `json:"latency_ms"`
	// ServerCPUPerLoginUS is the server's CPU (user + system, /proc) over
	// the timed ramp divided by its logins (0 without --server-pid);
	// GeneratorCPUPerLoginUS the same for the generator itself, which
	// must not be what limits the ramp.
	ServerCPUPerLoginUS    float64 `json:"server_cpu_per_login_us,omitempty"`
	ServerCPUPercent       float64 `json:"server_cpu_percent,omitempty"`
	GeneratorCPUPerLoginUS float64 `json:"generator_cpu_per_login_us,omitempty"`
	GeneratorCPUPercent    float64 `json:"generator_cpu_percent,omitempty"`
}

// IdleResult is memory per idle, available connection.
type IdleResult struct {
	Devices        int   `json:"devices"`
	RSSBeforeBytes int64 `json:"rss_before_bytes"`
	RSSAfterBytes  int64 `json:"rss_after_bytes"`
	BytesPerDevice int64 `json:"bytes_per_device"`
}

// StepResult is one offered rate (open loop) or the closed-loop run.
type StepResult struct {
	OfferedPerSecond   float64   `json:"offered_per_second,omitempty"`
	SentPerSecond      float64   `json:"sent_per_second"`
	DeliveredPerSecond float64   `json:"delivered_per_second"`
	Sent               int64     `json:"sent"`
	Delivered          int64     `json:"delivered"`
	Lost               int64     `json:"lost"`
	Duplicated         int64     `json:"duplicated"`
	Reordered          int64     `json:"reordered"`
	Latency            Quantiles `json:"latency_ms"`
	ServerCPUPercent   float64   `json:"server_cpu_percent,omitempty"`
	ServerCPUPerMsgUS  float64   `json:"server_cpu_us_per_delivered,omitempty"`
	BehindSchedule     bool      `json:"generator_behind_schedule,omitempty"`
	// MaxLagMS is how far, at worst, the open loop's sends trailed its
	// schedule (ms of traffic not yet sent when it should have been).
	MaxLagMS float64 `json:"generator_max_lag_ms,omitempty"`
	// The generator's own CPU (sending and receiving both sides of every
	// message): 1e6 / GeneratorCPUPerMsgUS is what one core of it sustains.
	GeneratorCPUPercent  float64 `json:"generator_cpu_percent,omitempty"`
	GeneratorCPUPerMsgUS float64 `json:"generator_cpu_us_per_message,omitempty"`
	Flat                 bool    `json:"flat"` // >= 97% delivered and p99 <= 50 ms
}

// OfflineResult is store-then-drain.
type OfflineResult struct {
	Messages       int64   `json:"messages"`
	Recipients     int     `json:"recipients"`
	StoreSeconds   float64 `json:"store_seconds"`
	StorePerSecond float64 `json:"stored_per_second"`
	DrainSeconds   float64 `json:"drain_seconds"`
	Delivered      int64   `json:"delivered"`
	Lost           int64   `json:"lost"`
	Duplicated     int64   `json:"duplicated"`
	Reordered      int64   `json:"reordered"`
	// CPU of each phase (the server's needs --server-pid), as a percentage
	// of one core over the phase: which side, if any, was the limit.
	StoreServerCPUPercent    float64 `json:"store_server_cpu_percent,omitempty"`
	StoreGeneratorCPUPercent float64 `json:"store_generator_cpu_percent,omitempty"`
	DrainServerCPUPercent    float64 `json:"drain_server_cpu_percent,omitempty"`
	DrainGeneratorCPUPercent float64 `json:"drain_generator_cpu_percent,omitempty"`
	// Server CPU per message in each phase, µs.
	StoreServerCPUPerMsgUS float64 `json:"store_server_cpu_us_per_message,omitempty"`
	DrainServerCPUPerMsgUS float64 `json:"drain_server_cpu_us_per_message,omitempty"`
}

// Quantiles summarizes a latency histogram in milliseconds.
type Quantiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func quantiles(h *Histogram) Quantiles {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Quantiles{
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
}
