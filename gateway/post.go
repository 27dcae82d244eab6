package gateway

import (
	"context"

	"github.com/tracegate/tracegate/gateway/store"
)

// After a batch is stored, its events feed the genuine checks and the
// cold-chain engine. That runs beside ingestion, not in the upload's path;
// when the worker falls behind, the uploader does the work itself (slower
// uploads, nothing skipped).

func (s *Service) afterIngest(ctx context.Context, evs []store.IndexedEvent) {
	if s.noAnalysis {
		return
	}
	select {
	case s.post <- evs:
	default:
		s.postProcess(ctx, evs)
	}
}

func (s *Service) runPostIngest(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			// Finish what was handed over before stopping.
			for {
				select {
				case evs := <-s.post:
					s.postProcess(context.Background(), evs)
				default:
					return nil
				}
			}
		case evs := <-s.post:
			s.postProcess(ctx, evs)
		}
	}
}

func (s *Service) postProcess(ctx context.Context, evs []store.IndexedEvent) {
	s.checkGenuine(ctx, evs)
	s.coldIngest(ctx, evs)
	s.closeScannedDeliveries(ctx, evs)
}

// WithoutAnalysis turns the genuine checks and the cold-chain engine off:
// events are only verified and indexed. For bulk loads (tracegate bench
// trace) where the analysis is not what is measured.
func WithoutAnalysis() Option { return func(s *Service) { s.noAnalysis = true } }
