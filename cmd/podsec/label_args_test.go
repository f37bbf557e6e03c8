package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitMetaArgs(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		resources []string
		set       map[string]string
		remove    []string
		err       string
	}{
		{args: []string{"pod", "web", "tier=db"}, resources: []string{"pod", "web"}, set: map[string]string{"tier": "db"}},
		{args: []string{"pods", "a", "b", "x=", "y-"}, resources: []string{"pods", "a", "b"}, set: map[string]string{"x": ""}, remove: []string{"y"}},
		{args: []string{"pod/web", "example.com/team=a"}, resources: []string{"pod/web"}, set: map[string]string{"example.com/team": "a"}},
		{args: []string{"pod", "web"}, err: "at least one label update is required"},
		{args: []string{"pod", "web", "a=b", "a-"}, err: `can not both modify and remove label "a"`},
		{args: []string{"pod", "a=b", "web"}, err: "all resources must be specified before label changes: web"},
		{args: []string{"pod", "web", "-x=1"}, err: `metadata.labels: Invalid value: "-x"`},
		{args: []string{"pod", "web", "x=" + strings.Repeat("v", 64)}, err: "metadata.labels: Invalid value: \"" + strings.Repeat("v", 64) + "\": must be no more than 63 bytes"},
		{args: []string{"pod", "web", "bad/key/x-"}, err: `metadata.labels: Invalid value: "bad/key/x"`},
	} {
		res, c, err := splitMetaArgs(labelsField, tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(res, tc.resources) || !reflect.DeepEqual(c.set, tc.set) || !reflect.DeepEqual(c.remove, tc.remove) {
			t.Errorf("%q: %q %v %q, %v", tc.args, res, c.set, c.remove, err)
		}
	}
}

func TestMetaChangeApply(t *testing.T) {
	cur := map[string]string{"tier": "web", "app": "shop"}
	nowarn := func(string) {}
	c := metaChange{f: labelsField, set: map[string]string{"tier": "db"}}
	if _, _, _, err := c.apply(cur, nowarn); err == nil || err.Error() != "'tier' already has a value (web), and --overwrite is false" {
		t.Errorf("without --overwrite: %v", err)
	}
	c.overwrite = true
	got, changed, onlyRemoved, err := c.apply(cur, nowarn)
	if err != nil || !changed || onlyRemoved || got["tier"] != "db" || got["app"] != "shop" || cur["tier"] != "web" {
		t.Errorf("--overwrite: %v %v %v %v (input %v)", got, changed, onlyRemoved, err, cur)
	}
	if v := c.verb(changed, onlyRemoved); v != "labeled" {
		t.Errorf("verb %q", v)
	}
	same := metaChange{f: labelsField, set: map[string]string{"tier": "web"}}
	if _, changed, _, err := same.apply(cur, nowarn); err != nil || changed || same.verb(changed, false) != "not labeled" {
		t.Errorf("same value: changed %v, %v", changed, err)
	}
	var warned []string
	rm := metaChange{f: labelsField, remove: []string{"app", "nope"}}
	got, changed, onlyRemoved, err = rm.apply(cur, func(s string) { warned = append(warned, s) })
	if err != nil || !changed || !onlyRemoved || got["app"] != "" || rm.verb(changed, onlyRemoved) != "unlabeled" || len(warned) != 1 || warned[0] != `label "nope" not found.` {
		t.Errorf("remove: %v %v %v %v %q", got, changed, onlyRemoved, err, warned)
	}
	ann := metaChange{f: annotationsField, set: map[string]string{"note": "x"}}
	if _, _, _, err := ann.apply(map[string]string{"note": "y"}, nowarn); err == nil || !strings.HasPrefix(err.Error(), "--overwrite is false but found the following declared annotation(s): 'note' already has a value (y)") {
		t.Errorf("annotate without --overwrite: %v", err)
	}
}
