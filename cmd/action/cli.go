package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/report"
)

// commands are the CLI's commands, in the order help lists them.
var commands = [][2]string{
	{"plan", "plan the deployment and save it in .promptarena/deploy.plan"},
	{"apply", "apply the saved plan, after proving it still holds"},
	{"status", "show what is deployed"},
	{"refresh", "check for drift and record the deployed state"},
	{"destroy", "tear the environment down (needs --confirm-destroy <environment>)"},
	{"targets", "list the repository's deploy targets (arena files and their environments)"},
	{"demo", "run the whole journey on the bundled example, with a GitHub emulator"},
}

// errHelp is a request for help: printed, exit 0.
var errHelp = errors.New("help requested")

// errVersion is a request for the version: printed, exit 0.
var errVersion = errors.New("version requested")

// cliOptions are the CLI's own flags, beside the inputs.
type cliOptions struct {
	json bool // one JSON object on stdout; the log goes to stderr
}

// cliInputs parses the CLI: a command, then flags named as the inputs.
// Help and version are errHelp and errVersion, already printed to stdout;
// anything wrong is errUsage, already explained on stderr.
func cliInputs(args []string, stdout, stderr io.Writer) (inputs, cliOptions, error) {
	in := inputs{}
	var opt cliOptions
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		in["command"], args = args[0], args[1:]
	}
	if len(args) > 0 && in["command"] == "" {
		switch args[0] {
		case "-h", "-help", "--help":
			in["command"] = "help"
		case "-version", "--version":
			in["command"] = "version"
		}
	}
	switch in["command"] {
	case "help":
		printHelp(stdout)
		return nil, opt, errHelp
	case "version":
		printVersion(stdout)
		return nil, opt, errVersion
	case "":
		fmt.Fprintln(stderr, "arena-deploy: no command given. Run arena-deploy --help for the commands and flags.")
		return nil, opt, errUsage
	}
	if !knownCommand(in["command"]) {
		fmt.Fprintf(stderr, "arena-deploy: unknown command %q; the commands are %s. Run arena-deploy --help.\n", in["command"], commandList())
		return nil, opt, errUsage
	}
	fs := flag.NewFlagSet("arena-deploy", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, help by printHelp
	vals := map[string]*string{}
	for _, n := range inputNames {
		if n != "command" {
			vals[n] = fs.String(n, inputDefaults[n], inputDocs[n])
		}
	}
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	version := fs.Bool("version", false, "")
	fs.BoolVar(&opt.json, "json", false, "")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp) || *help:
		printHelp(stdout)
		return nil, opt, errHelp
	case *version:
		printVersion(stdout)
		return nil, opt, errVersion
	case err != nil:
		fmt.Fprintf(stderr, "arena-deploy: %v. Run arena-deploy --help for the flags.\n", err)
		return nil, opt, errUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "arena-deploy: unexpected argument %q: %s takes flags only (the project is --working-directory, the environment --environment).\n", fs.Arg(0), in["command"])
		return nil, opt, errUsage
	}
	for n, v := range vals {
		in[n] = *v
	}
	fs.Visit(func(f *flag.Flag) {
		if _, input := vals[f.Name]; input && f.Value.String() == "" {
			in[f.Name] = emptyInput // --state-branch= means "none", not the default
		}
	})
	return in, opt, nil
}

func knownCommand(c string) bool {
	for _, k := range commands {
		if k[0] == c {
			return true
		}
	}
	return false
}

func commandList() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c[0]
	}
	return strings.Join(names, ", ")
}

// printHelp lists the commands and every flag with action.yml's own
// description of the input (inputDocs is generated from it).
func printHelp(w io.Writer) {
	fmt.Fprintf(w, "arena-deploy %s: plan PromptKit arena deployments, apply exactly the reviewed plan.\n\n", actionVersion())
	fmt.Fprintln(w, "usage: arena-deploy <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c[0], c[1])
	}
	fmt.Fprintln(w, "\nflags (the action's inputs; paths are relative to --working-directory):")
	names := append([]string(nil), inputNames...)
	sort.Strings(names)
	for _, n := range names {
		if n == "command" {
			continue
		}
		def := ""
		if d := inputDefaults[n]; d != "" {
			def = fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "  --%-26s %s%s\n", n, inputDocs[n], def)
	}
	fmt.Fprintln(w, "  --json                       print one JSON object (outputs, warnings, errors) on stdout; the log goes to stderr")
	fmt.Fprintln(w, "  --version                    print the version")
	fmt.Fprintln(w, "\nexit codes: 0 success, 1 the run failed (failure-reason says why), 2 bad command, flags or inputs.")
	fmt.Fprintln(w, "More: the README (inputs, outputs, troubleshooting per failure-reason).")
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "arena-deploy %s (%s, %s/%s)\n", actionVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// cliReporter prints for a person at a terminal (or, with --json, one
// object for a machine): the report without its HTML, colours on a TTY.
type cliReporter struct {
	w        io.Writer // the log
	out      io.Writer // stdout, for --json
	asJSON   bool
	color    bool
	outputs  [][2]string
	warnings []string
	errors   []string
}

func newCLIReporter(stdout, stderr io.Writer, opt cliOptions) *cliReporter {
	c := &cliReporter{w: stdout, out: stdout, asJSON: opt.json, color: isTerminal(stdout)}
	if opt.json {
		c.w, c.color = stderr, false
	}
	return c
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (c *cliReporter) paint(code, s string) string {
	if !c.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (c *cliReporter) Infof(f string, a ...any) { fmt.Fprintf(c.w, f+"\n", a...) }
func (c *cliReporter) Warningf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	c.warnings = append(c.warnings, msg)
	fmt.Fprintln(c.w, c.paint("33", "warning:")+" "+msg)
}
func (c *cliReporter) Errorf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	c.errors = append(c.errors, msg)
	fmt.Fprintln(c.w, c.paint("1;31", "error:")+" "+msg)
}
func (c *cliReporter) Group(t string)           { fmt.Fprintln(c.w, c.paint("1", "── "+t)) }
func (c *cliReporter) EndGroup()                {}
func (c *cliReporter) AddMask(string)           {}
func (c *cliReporter) AddStepSummary(md string) { fmt.Fprintf(c.w, "\n%s\n", terminalText(md)) }
func (c *cliReporter) SetOutput(k, v string) {
	for i := range c.outputs {
		if c.outputs[i][0] == k {
			c.outputs[i][1] = v
			return
		}
	}
	c.outputs = append(c.outputs, [2]string{k, v})
}

// finish prints the outputs: as lines, or as the --json object.
func (c *cliReporter) finish(command string, code int) {
	if c.asJSON {
		outs := map[string]string{}
		for _, kv := range c.outputs {
			outs[kv[0]] = kv[1]
		}
		b, _ := json.MarshalIndent(struct {
			Command  string            `json:"command"`
			ExitCode int               `json:"exit_code"`
			Outputs  map[string]string `json:"outputs"`
			Warnings []string          `json:"warnings"`
			Errors   []string          `json:"errors"`
		}{command, code, outs, nonNil(c.warnings), nonNil(c.errors)}, "", "  ")
		fmt.Fprintln(c.out, string(b))
		return
	}
	if len(c.outputs) == 0 {
		return
	}
	fmt.Fprintln(c.w, c.paint("1", "outputs:"))
	for _, kv := range c.outputs {
		fmt.Fprintf(c.w, "  %s=%s\n", kv[0], kv[1])
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->\n?`)
	summaryTag  = regexp.MustCompile(`<details[^>]*><summary>(.*?)</summary>`)
	htmlTag     = regexp.MustCompile(`</?(details|summary|sub|code|br)[^>]*>`)
)

// terminalText is a report as a terminal shows it: no hidden marker, folds
// as their titles, no HTML tags; the Markdown tables stay (they read fine).
func terminalText(md string) string {
	md = htmlComment.ReplaceAllString(md, "")
	md = summaryTag.ReplaceAllString(md, "▸ $1")
	// A line break in a cell (two links, a detail's lines) is a space: not
	// "[Console](…)[Logs](…)".
	md = strings.ReplaceAll(md, "<br>", " ")
	md = htmlTag.ReplaceAllString(md, "")
	for strings.Contains(md, "\n\n\n") {
		md = strings.ReplaceAll(md, "\n\n\n", "\n\n")
	}
	return strings.TrimSpace(md)
}

var _ report.Sink = (*cliReporter)(nil)
