package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// podReview is a CREATE review by alice of a pod whose metadata and spec
// are the JSON texts given.
func podReview(uid, op, meta, spec string) string {
	return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":` + strQuote(uid) + `,` +
		`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
		`"namespace":"team","operation":"` + op + `","userInfo":{"username":"alice","groups":["system:authenticated"]},` +
		`"object":{"apiVersion":"v1","kind":"Pod","metadata":` + meta + `,"spec":` + spec + `}}}`
}

func strQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// serve posts body to path through h and decodes the answer.
func serve(t testing.TB, h http.Handler, path, body string) (*httptest.ResponseRecorder, *admissionv1.AdmissionReview) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out admissionv1.AdmissionReview
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("POST %s: answer %.300s does not parse: %v", path, rec.Body, err)
		}
	}
	return rec, &out
}

// TestLogLineForgery: a pod's name and generateName reach a mutating
// webhook before the API server validates them. A newline in them, or
// in what a refusal quotes, wrote a second log line of the attacker's
// choosing (an "allowed" for a pod that was refused, say); each review
// is one line, with such characters escaped, and a valid name is
// written as it is.
func TestLogLineForgery(t *testing.T) {
	var log bytes.Buffer
	h := NewHandler(Config{Store: seedStore(t), Log: &log})
	plain := `{"containers":[{"name":"main","image":"kubia"}]}`
	forged := "web\npodsec webhook: mutate CREATE pod kube-system/root by \"admin\": allowed by podsecuritypolicy \"privileged\""
	reviews := []struct{ path, meta, spec, want string }{
		{"/mutate", `{"name":` + strQuote(forged) + `}`, plain, `pod team/web\npodsec webhook: mutate CREATE pod kube-system/root by "admin"`},
		{"/validate", `{"generateName":"x\r\u2028\u0085-"}`, `{"hostNetwork":true,"containers":[{"name":"main","image":"kubia"}]}`, `pod team/x\r\u2028\u0085-* by "alice": refused: `},
		{"/validate", `{"name":"web"}`, `{"containers":[{"name":"main","image":"kubia","securityContext":{"capabilities":{"add":["NET_ADMIN\nforged"]}}}]}`, `pod team/web by "alice": refused: `},
		{"/mutate", `{"name":"web-0.a"}`, plain, `pod team/web-0.a by "alice": allowed by podsecuritypolicy "default"`},
	}
	for _, rv := range reviews {
		if rec, _ := serve(t, h, rv.path, podReview("u1", "CREATE", rv.meta, rv.spec)); rec.Code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", rv.path, rec.Code, rec.Body)
		}
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != len(reviews) {
		t.Fatalf("%d reviews logged %d lines, want one each:\n%s", len(reviews), len(lines), log.String())
	}
	for i, rv := range reviews {
		if !strings.HasPrefix(lines[i], "podsec webhook: ") || !strings.Contains(lines[i], rv.want) {
			t.Errorf("line %d = %q, want it to hold %q", i, lines[i], rv.want)
		}
	}
}

// TestAppendLogText: what is escaped and what is kept.
func TestAppendLogText(t *testing.T) {
	for in, want := range map[string]string{
		"web-0.a":            "web-0.a",
		"é日本 \"q\" \\":       "é日本 \"q\" \\",
		"a\nb\r\tc\x00\x7f":  `a\nb\r\tc\x00\x7f`,
		"\u2028\u2029\u0085": `\u2028\u2029\u0085`,
		"bad\xff\xfeutf8":    `bad\xff\xfeutf8`,
	} {
		if got := string(appendLogText([]byte("> "), in)); got != "> "+want {
			t.Errorf("appendLogText(%q) = %q, want %q", in, got, "> "+want)
		}
	}
}

// manyContainers is a pod spec of n empty containers: three bytes of
// JSON each, a 408-byte corev1.Container each once decoded.
func manyContainers(list string, n int) string {
	return `{"` + list + `":[` + strings.Repeat(`{},`, n-1) + `{}]}`
}

// namedContainers is a pod spec of n containers the seed policy allows.
func namedContainers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,{"name":"c%d","image":"kubia"}`, i)
	}
	return `{"containers":[` + b.String()[1:] + `]}`
}

// withObjects is review with its request's object and oldObject
// replaced by the JSON texts given.
func withObjects(review, object, oldObject string) string {
	i := strings.Index(review, `"object":`)
	return review[:i] + `"object":` + object + `,"oldObject":` + oldObject + `}}`
}

// TestReviewTooManyContainers: a pod of 300,000 empty containers (900 KB)
// is refused, past the review's bound on JSON objects, without being
// decoded: before, it took some 1.7 GB of allocation and seconds (a 3
// MiB one, 5.7 GB and 13 s on /mutate, with a 139 MB answer). So are
// 300,000 empty volume mounts or tolerations (four 3 MiB reviews of them
// took the webhook to 1.4 GB). Under that bound, a pod of 2,000
// containers or 5,000 volumes is refused naming the field, before any
// policy walks it. A review the webhook does not decide is allowed
// whatever its objects hold; a pod at the limit, and the abuse suite's 3
// MB pod of 25,000 variables, are decided.
func TestReviewTooManyContainers(t *testing.T) {
	h := NewHandler(Config{Store: seedStore(t)})
	huge := 300_000
	type want struct {
		allowed bool
		message string
	}
	tests := []struct {
		name, path, body string
		want             want
	}{
		{"containers", "/mutate", podReview("u1", "CREATE", `{"name":"web"}`, manyContainers("containers", huge)),
			want{false, fmt.Sprintf("request: Too many: %d: must have at most %d JSON objects in the object and oldObject together", huge+8, MaxReviewObjects)}},
		{"2000 containers", "/mutate", podReview("u1", "CREATE", `{"name":"web"}`, manyContainers("containers", 2000)),
			want{false, fmt.Sprintf("request.object.spec: Too many: 2000: must have at most %d containers", MaxPodContainers)}},
		{"init containers", "/validate", podReview("u2", "CREATE", `{"name":"web"}`, manyContainers("initContainers", 2000)),
			want{false, "request.object.spec: Too many"}},
		{"volumes", "/mutate", podReview("u3", "CREATE", `{"name":"web"}`, manyContainers("volumes", 5000)),
			want{false, fmt.Sprintf("request.object.spec.volumes: Too many: 5000: must have at most %d items", MaxPodVolumes)}},
		{"old object of an update", "/validate", withObjects(podReview("u4", "UPDATE", `{"name":"web"}`, `{}`),
			`{"metadata":{"name":"web"},"spec":{"containers":[{"name":"c","image":"i"}]}}`, `{"metadata":{"name":"web"},"spec":`+manyContainers("containers", 2000)+`}`),
			want{false, "request.oldObject.spec: Too many"}},
		{"delete", "/validate", withObjects(podReview("u5", "DELETE", `{"name":"web"}`, `{}`), "null", `{"metadata":{"name":"web"},"spec":`+manyContainers("containers", huge)+`}`),
			want{true, ""}},
		{"at the limit", "/mutate", podReview("u6", "CREATE", `{"name":"web"}`, namedContainers(MaxPodContainers)), want{true, ""}},
		{"volume mounts", "/mutate", podReview("u7", "CREATE", `{"name":"web"}`, `{"containers":[{"name":"c","image":"i","volumeMounts":`+
			manyContainers("x", huge)[5:len(manyContainers("x", huge))-1]+`}]}`), want{false, fmt.Sprintf("request: Too many: %d: must have at most %d JSON objects", huge+9, MaxReviewObjects)}},
		{"tolerations", "/validate", podReview("u8", "CREATE", `{"name":"web"}`, `{"containers":[{"name":"c","image":"i"}],"tolerations":`+
			manyContainers("x", huge)[5:len(manyContainers("x", huge))-1]+`}`), want{false, "request: Too many"}},
		{"3 MB of 25,000 variables", "/mutate", string(bigReview(t, 3_000_000, false)), want{true, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec, out := serve(t, h, tc.path, tc.body)
			runtime.ReadMemStats(&after)
			if rec.Code != http.StatusOK {
				t.Fatalf("POST %s: %d %.300s", tc.path, rec.Code, rec.Body)
			}
			msg := ""
			if out.Response.Result != nil {
				msg = out.Response.Result.Message
			}
			if out.Response.Allowed != tc.want.allowed || !strings.Contains(msg, tc.want.message) || tc.want.message == "" && msg != "" {
				t.Errorf("POST %s: allowed %v %q, want %v %q", tc.path, out.Response.Allowed, msg, tc.want.allowed, tc.want.message)
			}
			// Past the objects' bound, the body is read and counted
			// without decoding the objects: a few times its size. Under
			// it, a few thousand containers are decoded, not decided.
			if alloc, bound := after.TotalAlloc-before.TotalAlloc, 8*uint64(len(tc.body))+8<<20; !tc.want.allowed && alloc > bound {
				t.Errorf("POST %s of %d KiB allocated %d KiB, want under %d KiB", tc.path, len(tc.body)>>10, alloc>>10, bound>>10)
			}
		})
	}
}

// TestCountObjects: braces in strings, escaped quotes and backslashes.
func TestCountObjects(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                             1,
		`{"a":{"b":[{},{}]}}`:            4,
		`{"a":"{{{","b":"\"{","c":"\\"}`: 1,
		`["{\"}{", {}, "\\", {}]`:        2,
	} {
		if got := countObjects([]byte(in)); got != want {
			t.Errorf("countObjects(%s) = %d, want %d", in, got, want)
		}
	}
}
