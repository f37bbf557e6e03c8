package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadOOMKills(t *testing.T) {
	for _, tc := range []struct {
		name, file, text string
		want             int
	}{
		{"cgroup v1", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", 2},
		{"cgroup v2", "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n", 1},
		{"none", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := readOOMKills(dir); got != tc.want {
				t.Errorf("readOOMKills(%s) = %d, want %d", tc.file, got, tc.want)
			}
		})
	}
	if got := readOOMKills(t.TempDir()); got != 0 {
		t.Errorf("readOOMKills(empty dir) = %d, want 0", got)
	}
}
