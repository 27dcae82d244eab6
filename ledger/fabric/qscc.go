package fabric

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/tracegate/tracegate/ledger"
)

// qscc evaluates a function of the query system chaincode as the reader.
// A missing entry ("no such transaction ID", "Entry not found") is
// NotFound.
func (l *Ledger) qscc(ctx context.Context, fn string, args ...string) ([]byte, error) {
	if l.closed.Load() {
		return nil, errClosed()
	}
	for attempt := 0; ; attempt++ {
		ectx, cancel := context.WithTimeout(ctx, l.cfg.EvaluateTimeout)
		out, err := l.reader.qscc.EvaluateWithContext(ectx, fn, client.WithArguments(args...))
		cancel()
		if err == nil {
			return out, nil
		}
		ge := gatewayError("qscc", fn, "", err)
		for _, m := range append([]string{ge.Message}, peerMessages(ge)...) {
			if strings.Contains(m, "no such transaction ID") || strings.Contains(m, "Entry not found") {
				return nil, &ledger.Error{Code: ledger.NotFound, Msg: fmt.Sprintf("qscc %s %s: not found", fn, strings.Join(args[1:], " ")), Err: ge}
			}
		}
		mapped, retry := classify(ctx, "qscc", fn, "", err)
		if !retry || attempt >= l.cfg.Retries {
			return nil, mapped
		}
		l.reader.peer.redial()
		if !l.backoff(ctx, attempt) {
			return nil, ledger.Errorf(ledger.Unavailable, "qscc %s: %w (last error: %v)", fn, ctx.Err(), mapped)
		}
	}
}

func peerMessages(ge *GatewayError) []string {
	out := make([]string, len(ge.Peers))
	for i, p := range ge.Peers {
		out[i] = p.Message
	}
	return out
}

// Transaction implements ledger.Ledger from the qscc system chaincode:
// GetTransactionByID gives the transaction and its validation code,
// GetBlockByTxID its block. An unknown transaction (including one whose
// endorsement was refused, which never reached the orderer) is NotFound.
func (l *Ledger) Transaction(ctx context.Context, txID string) (ledger.TxInfo, error) {
	raw, err := l.qscc(ctx, "GetTransactionByID", l.cfg.Channel, txID)
	if err != nil {
		return ledger.TxInfo{}, withTx(err, txID)
	}
	var pt peer.ProcessedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		return ledger.TxInfo{}, ledger.Errorf(ledger.Unavailable, "transaction %s: decode ProcessedTransaction: %v", txID, err)
	}
	info := ledger.TxInfo{TxID: txID, Valid: peer.TxValidationCode(pt.GetValidationCode()) == peer.TxValidationCode_VALID}
	ch, sh, err := headers(pt.GetTransactionEnvelope())
	if err != nil {
		return ledger.TxInfo{}, ledger.Errorf(ledger.Unavailable, "transaction %s: %v", txID, err)
	}
	if ts := ch.GetTimestamp(); ts != nil {
		info.Time = ts.AsTime().UTC()
	}
	var creator msp.SerializedIdentity
	if err := proto.Unmarshal(sh.GetCreator(), &creator); err == nil {
		info.Org = creator.GetMspid()
	}
	rawBlock, err := l.qscc(ctx, "GetBlockByTxID", l.cfg.Channel, txID)
	if err != nil {
		return ledger.TxInfo{}, withTx(err, txID)
	}
	var b common.Block
	if err := proto.Unmarshal(rawBlock, &b); err != nil {
		return ledger.TxInfo{}, ledger.Errorf(ledger.Unavailable, "transaction %s: decode block: %v", txID, err)
	}
	info.Block = b.GetHeader().GetNumber()
	return info, nil
}

// withTx names the transaction in a NotFound error the way the embedded
// backend does.
func withTx(err error, txID string) error {
	if ledger.CodeOf(err) == ledger.NotFound {
		return &ledger.Error{Code: ledger.NotFound, Msg: fmt.Sprintf("transaction %s is not committed", txID), Err: err}
	}
	return err
}

// headers returns an envelope's channel and signature headers.
func headers(env *common.Envelope) (*common.ChannelHeader, *common.SignatureHeader, error) {
	var p common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &p); err != nil {
		return nil, nil, fmt.Errorf("decode envelope payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(p.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, nil, fmt.Errorf("decode channel header: %w", err)
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(p.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, nil, fmt.Errorf("decode signature header: %w", err)
	}
	return &ch, &sh, nil
}

// height returns the number of blocks on the reader's peer.
func (l *Ledger) height(ctx context.Context) (uint64, error) {
	raw, err := l.qscc(ctx, "GetChainInfo", l.cfg.Channel)
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, ledger.Errorf(ledger.Unavailable, "decode chain info: %v", err)
	}
	return info.GetHeight(), nil
}

// blockTxIDs returns the transaction IDs of block n, in block order.
func (l *Ledger) blockTxIDs(ctx context.Context, n uint64) ([]string, error) {
	raw, err := l.qscc(ctx, "GetBlockByNumber", l.cfg.Channel, strconv.FormatUint(n, 10))
	if err != nil {
		return nil, err
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil {
		return nil, ledger.Errorf(ledger.Unavailable, "decode block %d: %v", n, err)
	}
	ids := make([]string, 0, len(b.GetData().GetData()))
	for i, d := range b.GetData().GetData() {
		var env common.Envelope
		if err := proto.Unmarshal(d, &env); err != nil {
			return nil, ledger.Errorf(ledger.Unavailable, "decode block %d transaction %d: %v", n, i, err)
		}
		ch, _, err := headers(&env)
		if err != nil {
			return nil, ledger.Errorf(ledger.Unavailable, "block %d transaction %d: %v", n, i, err)
		}
		ids = append(ids, ch.GetTxId())
	}
	return ids, nil
}
