package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPod feeds arbitrary manifests through decode, validate and translate:
// bad input must give errors, never a panic.
func FuzzPod(f *testing.F) {
	files, _ := filepath.Glob("../testdata/pods/*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"List","items":[]}]}`))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - securityContext: {capabilities: {add: [ALL]}, runAsUser: -1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, err := DecodePods(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, pod := range pods {
			if errs := ValidatePod(pod, ValidateOptions{}); len(errs) > 0 {
				continue
			}
			for _, name := range ContainerNames(pod) {
				in := Input{Pod: pod, ContainerName: name, Options: Options{Seccomp: fakeSeccomp{}}}
				_, _ = Translate(in)
				in.Image = &ImageConfig{User: "guest"}
				in.Users = &UserDB{Passwd: []byte(testPasswd), Group: []byte(testGroup)}
				_, _ = Translate(in)
			}
		}
	})
}
