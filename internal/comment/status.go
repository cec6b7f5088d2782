package comment

import (
	"bytes"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
)

// Status is what a status or refresh report shows.
type Status struct {
	Kind         string // status | refresh
	Env          string
	Response     *deploy.StatusResponse
	LastDeployed string
	Footer       string
	// Baseline is the evaluation recorded at the last apply (nil: none).
	Baseline *evalgate.Baseline
}

// Drifted lists the resources that are not healthy.
func Drifted(resp *deploy.StatusResponse) []deploy.ResourceStatus {
	var out []deploy.ResourceStatus
	if resp == nil {
		return nil
	}
	for _, r := range resp.Resources {
		if r.Status != "healthy" {
			out = append(out, r)
		}
	}
	return out
}

func statusRow(r deploy.ResourceStatus) string {
	icon := map[string]string{"healthy": "🟢", "unhealthy": "🟠", "missing": "🔴"}[r.Status]
	if icon == "" {
		icon = "❔"
	}
	return "| " + icon + " | **" + Escape(r.Status) + "** | " + EscapeMax(r.Type, 80) + " | " + EscapeMax(r.Name, 120) + " | " +
		EscapeMax(r.Detail, 300) + " | " + links(r.Links) + " |"
}

// RenderStatus renders a health table within budget.
func RenderStatus(st *Status, budget int) string {
	v := struct {
		Icon, Kind, Env, Status, LastDeployed, Footer, Links string
		Evaluations                                          string
		Rows                                                 []string
		Omitted                                              int
	}{Kind: st.Kind, Env: "**" + Escape(st.Env) + "**", LastDeployed: Escape(st.LastDeployed), Footer: st.Footer, Status: "not deployed", Icon: "⚪"}
	if st.Response != nil {
		v.Status = Escape(strings.ReplaceAll(st.Response.Status, "_", " "))
		v.Links = DeploymentLinks(st.Response.Links)
		switch st.Response.Status {
		case "deployed":
			v.Icon = "🟢"
		case "degraded":
			v.Icon = "🟠"
		}
		rows := make([]string, len(st.Response.Resources))
		for i, r := range st.Response.Resources {
			rows[i] = statusRow(r)
		}
		room := rowBudget(budget - 2000)
		v.Rows, v.Omitted = room.take(rows)
	}
	v.Evaluations = BaselineLine(st.Baseline)
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "status.md.tmpl", v); err != nil {
		panic(err)
	}
	return buf.String()
}
