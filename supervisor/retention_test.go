package supervisor

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestPruneLogs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"0.log", "0.log.20240101-000000", "1.log", "1.log.20240101-000001.1", "2.log", "3.log", "notes"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := pruneLogs(dir, 3); err != nil {
		t.Fatalf("pruneLogs(3) = %v", err)
	}
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	want := []string{"2.log", "3.log", "notes"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pruneLogs(3) left %v, want %v", got, want)
	}
}
