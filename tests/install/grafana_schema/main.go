// Validates dashboard JSON files against Grafana's dashboard schema as Grafana's foundation SDK
// carries it: Go types Grafana generates from its dashboard kind and from the schemas of its
// panel plugins and data sources, with strict decoding (an unknown field, a missing required
// field or a value of the wrong type is an error), each panel's options and field config
// decoded by the schema of its panel type, each target by the Prometheus query schema, and the
// schema's constraints checked (Validate). A file must declare the schemaVersion of that
// schema: the version this module pins (go.mod) decides it.
//
//	go run . FILE...   prints one line per file; exit 1 when one does not validate
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The SDK returns its error list as an error even when the list is empty.
func failed(err error) bool {
	var list cog.BuildErrors
	if errors.As(err, &list) {
		return len(list) > 0
	}
	return err != nil
}

func validate(path string, schemaVersion uint16) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var parsed dashboard.Dashboard
	if err := parsed.UnmarshalJSONStrict(raw); failed(err) {
		return fmt.Errorf("does not decode: %w", err)
	}
	if err := parsed.Validate(); failed(err) {
		return fmt.Errorf("breaks a constraint: %w", err)
	}
	if parsed.SchemaVersion != schemaVersion {
		return fmt.Errorf("declares schemaVersion %d; this schema is version %d",
			parsed.SchemaVersion, schemaVersion)
	}
	// PanelOrRowPanel's decoder drops a panel that decoded without error (the empty error
	// list again): each panel is decoded and validated here as well.
	var raws struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &raws); err != nil {
		return err
	}
	targets := 0
	for i, rawPanel := range raws.Panels {
		var panel dashboard.Panel
		if err := panel.UnmarshalJSONStrict(rawPanel); failed(err) {
			return fmt.Errorf("panel %d does not decode: %w", i, err)
		}
		if err := panel.Validate(); failed(err) {
			return fmt.Errorf("panel %d breaks a constraint: %w", i, err)
		}
		// Options, field config and targets are decoded by the schemas of the panel type and
		// of the Prometheus query; their errors are the panel's (the decoder keeps no value
		// when there is none: the empty error list again), so targets are counted raw.
		if panel.Type == "row" {
			return fmt.Errorf("panel %d is a row; the dashboards have none", i)
		}
		var counted struct {
			Targets []json.RawMessage `json:"targets"`
		}
		if err := json.Unmarshal(rawPanel, &counted); err != nil {
			return err
		}
		targets += len(counted.Targets)
	}
	fmt.Printf("%s: valid, schemaVersion %d, %d panels, %d targets\n", path, schemaVersion,
		len(raws.Panels), targets)
	return nil
}

func main() {
	plugins.RegisterDefaultPlugins()
	schemaVersion := dashboard.NewDashboard().SchemaVersion
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go run . FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		if err := validate(path, schemaVersion); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
