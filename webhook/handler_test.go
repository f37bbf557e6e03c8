package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestInflightLimit: with every slot taken, a review is answered 429 with
// Retry-After at once; once a slot is free, it is decided.
func TestInflightLimit(t *testing.T) {
	h := NewHandler(Config{Store: seedStore(t), MaxInflight: 2})
	body := bigReview(t, 10_000, false)
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	if rec := post(); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("POST /validate with 2 of 2 in flight: %d, Retry-After %q; want 429 with Retry-After 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	<-h.slots
	if rec := post(); rec.Code != http.StatusOK {
		t.Errorf("POST /validate with 1 of 2 in flight: %d %s, want 200", rec.Code, rec.Body)
	}
	if len(h.slots) != 1 {
		t.Errorf("%d slots taken after the review, want its slot given back", len(h.slots))
	}
}
