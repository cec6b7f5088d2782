// Package report is the one way out of a run: every log line, warning,
// error, step output, job summary, comment, issue and artifact a run
// produces passes one masker here, and, in GitHub Actions, every line is
// printed so that the runner cannot read a workflow command in text that a
// pull request, an adapter or GitHub wrote.
package report

import (
	"fmt"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
)

// Sink is where reports go: the runner (Actions) or a terminal.
type Sink interface {
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
	Group(title string)
	EndGroup()
	AddMask(s string)
	SetOutput(k, v string)
	AddStepSummary(markdown string)
}

// Publisher masks everything on its way to a Sink. It is itself a Sink,
// so a run uses it where it used the runner.
type Publisher struct {
	sink Sink
	m    *mask.Masker
}

// New publishes to sink through m. Secrets are also scrubbed in their
// Markdown-escaped form, as reports escape adapter text before showing it.
func New(sink Sink, m *mask.Masker) *Publisher {
	m.AddForm(comment.Escape)
	return &Publisher{sink: sink, m: m}
}

// Masker is the publisher's masker, shared by everything the run shows.
func (p *Publisher) Masker() *mask.Masker { return p.m }

// Text masks s for a channel the publisher does not write itself (a
// comment, an issue, a file).
func (p *Publisher) Text(s string) string { return p.m.String(s) }

// Infof logs a line.
func (p *Publisher) Infof(format string, args ...any) {
	p.sink.Infof("%s", p.m.String(fmt.Sprintf(format, args...)))
}

// Warningf logs a warning annotation.
func (p *Publisher) Warningf(format string, args ...any) {
	p.sink.Warningf("%s", p.m.String(fmt.Sprintf(format, args...)))
}

// Errorf logs an error annotation.
func (p *Publisher) Errorf(format string, args ...any) {
	p.sink.Errorf("%s", p.m.String(fmt.Sprintf(format, args...)))
}

// Group opens a log group.
func (p *Publisher) Group(title string) { p.sink.Group(p.m.String(title)) }

// EndGroup closes it.
func (p *Publisher) EndGroup() { p.sink.EndGroup() }

// AddMask registers a secret with the masker and the runner; each line of
// a multi-line secret is registered on its own, so the runner hides it
// when it is printed line by line.
func (p *Publisher) AddMask(s string) {
	before := len(p.m.Secrets())
	p.m.Add(s)
	for _, v := range p.m.Secrets()[before:] {
		p.sink.AddMask(v)
	}
}

// SetOutput sets a step output. Outputs are one line: go-githubactions
// writes them with a fixed heredoc delimiter, so a line break in a value
// could end it and set other outputs.
func (p *Publisher) SetOutput(k, v string) {
	p.sink.SetOutput(k, strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(p.m.String(v)))
}

// AddStepSummary appends to the job summary.
func (p *Publisher) AddStepSummary(markdown string) { p.sink.AddStepSummary(p.m.String(markdown)) }

// --- what adapters send, masked field by field before anything renders it
// (rendering escapes text, and an escaped secret is harder to find whole).

// Changes masks every field of a plan's changes, its summary and warnings.
func Changes(m *mask.Masker, resp *deploy.PlanResponse) {
	for i := range resp.Changes {
		c := &resp.Changes[i]
		c.Type, c.Name, c.Detail = m.String(c.Type), m.String(c.Name), m.String(c.Detail)
		c.Action = deploy.Action(m.String(string(c.Action)))
	}
	for i, w := range resp.Warnings {
		resp.Warnings[i] = m.String(w)
	}
	resp.Summary = m.String(resp.Summary)
}

// Result masks an applied resource, links included.
func Result(m *mask.Masker, r *deploy.ResourceResult) {
	r.Type, r.Name, r.Status, r.Detail = m.String(r.Type), m.String(r.Name), m.String(r.Status), m.String(r.Detail)
	r.Action = deploy.Action(m.String(string(r.Action)))
	r.Links = Links(m, r.Links)
}

// Status masks a status answer: its status, resources and links (not the
// opaque state, which is checked before it is stored).
func Status(m *mask.Masker, resp *deploy.StatusResponse) {
	resp.Status = m.String(resp.Status)
	for i := range resp.Resources {
		r := &resp.Resources[i]
		r.Type, r.Name, r.Status, r.Detail = m.String(r.Type), m.String(r.Name), m.String(r.Status), m.String(r.Detail)
		r.Links = Links(m, r.Links)
	}
	resp.Links = Links(m, resp.Links)
}

// Links masks labels and URLs.
func Links(m *mask.Masker, ls []deploy.Link) []deploy.Link {
	for i := range ls {
		ls[i].Label, ls[i].URL, ls[i].Rel = m.String(ls[i].Label), m.String(ls[i].URL), m.String(ls[i].Rel)
	}
	return ls
}
