package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// pairedRounds is how many turns the me scenario takes between the bare
// baseline and jwtrevoke, each a fifth of the duration: the machine's
// load changes from second to second, and a ratio of runs made far
// apart measures that change more than the servers.
const pairedRounds = 5

// paired runs req against jwtrevoke and the same request (the same
// bytes: the baselines ignore the token) against the bare baseline and
// the baseline with jwtrevoke's headers (-headers) in pairedRounds turns,
// bare first, each a fifth of the duration. It returns jwtrevoke's result
// over all its turns (p50/p99 of its median turn) and the median of the
// turns' req/s ratios to the bare baseline; the notes give every turn and
// the median ratio to the baseline with the same headers, which leaves
// out what the headers cost to write and to read.
func (b *bench) paired(ctx context.Context, srv *proc, req request) (result, float64, []string, error) {
	base, err := startProc(ctx, "baseline", b.tmp, nil, b.baseExe)
	if err != nil {
		return result{}, 0, nil, err
	}
	defer base.stop()
	hdrs, err := startProc(ctx, "baseline-headers", b.tmp, nil, b.baseExe, "-headers")
	if err != nil {
		return result{}, 0, nil, err
	}
	defer hdrs.stop()
	ld := *b.ld
	ld.dur = max(b.ld.dur/pairedRounds, 2*time.Second)
	bareReq, hdrsReq := req, req
	bareReq.URL = base.URL + "/api/me/"
	hdrsReq.URL = hdrs.URL + "/api/me/"
	type turn struct {
		ours             result
		bare, hdrs       float64
		ratio, ratioHdrs float64
	}
	var turns []turn
	var total result
	var cpu [3]cpuUse // bare, bare+headers, jwtrevoke
	for range pairedRounds {
		br, err := cpu[0].run(ctx, &ld, base, bareReq)
		if err != nil {
			return result{}, 0, nil, fmt.Errorf("baseline: %w", err)
		}
		hr, err := cpu[1].run(ctx, &ld, hdrs, hdrsReq)
		if err != nil {
			return result{}, 0, nil, fmt.Errorf("baseline -headers: %w", err)
		}
		or, err := cpu[2].run(ctx, &ld, srv, req)
		if err != nil {
			return result{}, 0, nil, err
		}
		turns = append(turns, turn{or, br.RPS, hr.RPS, or.RPS / br.RPS, or.RPS / hr.RPS})
		total.Tool = or.Tool
		total.Requests += or.Requests
		total.Errors += or.Errors
		total.Elapsed += or.Elapsed
		total.Max = max(total.Max, or.Max)
		if or.Detail != "" {
			total.Detail = or.Detail
		}
	}
	sorted := slices.Clone(turns)
	slices.SortFunc(sorted, func(a, b turn) int { return cmp.Compare(a.ratio, b.ratio) })
	med := sorted[len(sorted)/2]
	byHdrs := slices.Clone(turns)
	slices.SortFunc(byHdrs, func(a, b turn) int { return cmp.Compare(a.ratioHdrs, b.ratioHdrs) })
	total.RPS = float64(total.Requests) / total.Elapsed.Seconds()
	total.P50, total.P99 = med.ours.P50, med.ours.P99
	var parts []string
	for _, t := range turns {
		parts = append(parts, fmt.Sprintf("%.0f/%.0f/%.0f", t.ours.RPS, t.bare, t.hdrs))
	}
	note := fmt.Sprintf("vs bare: the median of %d turns taken in alternation with the bare baseline and the baseline sending jwtrevoke's headers "+
		"(jwtrevoke/bare/bare+headers req/s: %s; ratios to bare %.2f to %.2f); vs the baseline with the same headers: %.2f× (median; %.2f to %.2f)",
		len(turns), strings.Join(parts, ", "), sorted[0].ratio, sorted[len(sorted)-1].ratio,
		byHdrs[len(byHdrs)/2].ratioHdrs, byHdrs[0].ratioHdrs, byHdrs[len(byHdrs)-1].ratioHdrs)
	notes := []string{note}
	if cpu[0].ok() && cpu[1].ok() && cpu[2].ok() {
		notes = append(notes, fmt.Sprintf("server CPU time per request over the turns (user and system, from /proc/PID/stat): bare %s, bare+headers %s, jwtrevoke %s µs",
			&cpu[0], &cpu[1], &cpu[2]))
	}
	return total, med.ratio, notes, nil
}

// cpuUse sums a server's CPU time over load runs and the requests they
// made.
type cpuUse struct {
	used     time.Duration
	requests int
	err      error
}

// run runs req against p with ld and adds p's CPU time over the run.
func (c *cpuUse) run(ctx context.Context, ld *loader, p *proc, req request) (result, error) {
	before, err := cpuTime(p.Pid())
	if err != nil {
		c.err = err
	}
	r, err := ld.run(ctx, req)
	if err != nil {
		return r, err
	}
	after, err := cpuTime(p.Pid())
	if err != nil {
		c.err = err
	}
	c.used += after - before
	c.requests += r.Requests
	return r, nil
}

func (c *cpuUse) ok() bool { return c.err == nil && c.requests > 0 }

// String is the CPU time per request in µs.
func (c *cpuUse) String() string {
	return fmt.Sprintf("%.1f", float64(c.used.Microseconds())/float64(c.requests))
}
