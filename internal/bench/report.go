package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints the report as tables for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "parley bench against %s, %s, %d devices, %d-byte bodies\n\n", r.Target, r.Date.Format("2006-01-02 15:04 MST"), r.Devices, r.BodySize)
	if l := r.Login; l != nil {
		fmt.Fprintf(tw, "login ramp\tdevices\tin flight\tlogins/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tsrv CPU %%\tsrv µs/login\tgen CPU %%\tgen µs/login\t\n")
		fmt.Fprintf(tw, "\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n\n", l.Devices, l.InFlight, l.PerSecond, l.Latency.P50, l.Latency.P90, l.Latency.P99, l.Latency.Max,
			l.ServerCPUPercent, l.ServerCPUPerLoginUS, l.GeneratorCPUPercent, l.GeneratorCPUPerLoginUS)
	}
	if i := r.Idle; i != nil {
		fmt.Fprintf(tw, "idle memory\tdevices\tRSS before\tRSS after\tper device\t\n")
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t\n\n", i.Devices, size(i.RSSBeforeBytes), size(i.RSSAfterBytes), size(i.BytesPerDevice))
	}
	if k := r.KeepAlive; k != nil {
		fmt.Fprintf(tw, "keep-alive\tdevices\tinterval s\tpulses/s\tsrv CPU %%\tsrv µs/pulse\tsrv RSS\tdisconnected\t\n")
		fmt.Fprintf(tw, "\t%d\t%.1f\t%.0f\t%.2f\t%.1f\t%s\t%d\t\n\n", k.Devices, k.IntervalSeconds, k.PulsesPerSecond, k.ServerCPUPercent, k.ServerCPUPerPulseUS, size(k.ServerRSSBytes), k.Disconnected)
	}
	if len(r.Steps) > 0 || r.Closed != nil {
		fmt.Fprintf(tw, "one-to-one\toffered/s\tsent/s\tdelivered/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tlost\tdup\treord\tsrv CPU %%\tsrv µs/msg\tgen CPU %%\tgen µs/msg\tflat\t\n")
		for _, s := range r.Steps {
			writeStep(tw, fmt.Sprintf("%.0f", s.OfferedPerSecond), s)
		}
		if r.Closed != nil {
			writeStep(tw, "closed loop", *r.Closed)
		}
		fmt.Fprintln(tw)
	}
	if o := r.Offline; o != nil {
		fmt.Fprintf(tw, "offline\tmessages\trecipients\tstored/s\tstore s\tdrain s\tdelivered\tlost\tdup\treord\t\n")
		fmt.Fprintf(tw, "\t%d\t%d\t%.0f\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t\n", o.Messages, o.Recipients, o.StorePerSecond, o.StoreSeconds, o.DrainSeconds, o.Delivered, o.Lost, o.Duplicated, o.Reordered)
		fmt.Fprintf(tw, "\tCPU %% of a core\tserver store\tgenerator store\tserver drain\tgenerator drain\tsrv µs/msg store\tsrv µs/msg drain\t\n")
		fmt.Fprintf(tw, "\t\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t\n\n", o.StoreServerCPUPercent, o.StoreGeneratorCPUPercent, o.DrainServerCPUPercent, o.DrainGeneratorCPUPercent, o.StoreServerCPUPerMsgUS, o.DrainServerCPUPerMsgUS)
	}
	if len(r.Groups) > 0 {
		writeGroups(tw, r.Groups)
	}
	if u := r.Upgrade; u != nil {
		fmt.Fprintf(tw, "live upgrade\toffered/s\tpids\tserving s\tall back s\tback\tresumed\tfresh\tsent\tdelivered\tnot delivered\tdup\tlongest gap ms\tp99 ms\tmax ms\tdials\trefused\t\n")
		fmt.Fprintf(tw, "\t%.0f\t%d->%d\t%.2f\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d (%.0f s after)\t%d\t%.0f\t%.1f\t%.0f\t%d\t%d\t\n", u.OfferedPerSecond, u.OldPID, u.NewPID,
			u.UpgradeSeconds, u.BackSeconds, u.Back, u.Resumed, u.Fresh, u.Sent, u.Delivered, u.Lost, u.DrainSeconds, u.Duplicated, u.LongestGapMS, u.Latency.P99, u.Latency.Max, u.Dials, u.Refused)
		fmt.Fprintf(tw, "\tlatency ms\tdeliveries\tp50\tp99\tmax\t\n")
		fmt.Fprintf(tw, "\tlive or re-sent\t%d\t%.1f\t%.1f\t%.0f\t\n", u.Live, u.LatencyLive.P50, u.LatencyLive.P99, u.LatencyLive.Max)
		fmt.Fprintf(tw, "\tfrom the queue\t%d\t%.1f\t%.1f\t%.0f\t\n", u.Queued, u.LatencyQueued.P50, u.LatencyQueued.P99, u.LatencyQueued.Max)
		fmt.Fprintf(tw, "\tback after (ms)\tp50 %.0f\tp90 %.0f\tp99 %.0f\tall %.0f\tretries %d\tmost attempts %d\t\n\n",
			u.BackAt.P50, u.BackAt.P90, u.BackAt.P99, u.BackAt.Max, u.Retries, u.MaxAttempts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}

func writeStep(w io.Writer, label string, s StepResult) {
	flat := "yes"
	if !s.Flat {
		flat = "no"
	}
	if s.BehindSchedule {
		flat += " (generator behind)"
	}
	fmt.Fprintf(w, "\t%s\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%.0f\t%.1f\t%.0f\t%.1f\t%s\t\n",
		label, s.SentPerSecond, s.DeliveredPerSecond, s.Latency.P50, s.Latency.P90, s.Latency.P99, s.Latency.P999,
		s.Lost, s.Duplicated, s.Reordered, s.ServerCPUPercent, s.ServerCPUPerMsgUS, s.GeneratorCPUPercent, s.GeneratorCPUPerMsgUS, flat)
}

func size(b int64) string {
	switch {
	case b >= 10<<30 || b <= -10<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 10<<20 || b <= -10<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 10<<10 || b <= -10<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

func writeGroups(w io.Writer, gs []GroupResult) {
	fmt.Fprintf(w, "groups\tmembers\toffline\tposts/s\tburst\tdeliveries/s\tp50 ms\tp99 ms\tmax ms\tdelivered\tof\tdup\tsrv µs/deliv\tper core/s\tsrv %%\tgen %%\tgen µs/deliv\tlater\tdrain s\t\n")
	for _, g := range gs {
		off := "none"
		if g.HalfOffline {
			off = "half"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%.0f\t%.2f\t%d/%d\t%.2f\t\n", g.MUCService, g.Members, off, g.PostRate, max(g.PostBurst, 1),
			g.DeliveriesPerSecond, g.Latency.P50, g.Latency.P99, g.Latency.Max, g.Delivered, g.Expected, g.Duplicated,
			g.ServerCPUPerDeliveryUS, g.DeliveriesPerCore, g.ServerCPUPercent, g.GeneratorCPUPercent, g.GeneratorCPUPerDelivUS, g.OfflineDelivered, g.OfflineExpected, g.DrainSeconds)
	}
	fmt.Fprintln(w)
}
