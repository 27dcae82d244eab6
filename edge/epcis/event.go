package epcis

// Event is one EPCIS 2.0 event in JSON-LD form, decoded with
// json.Decoder.UseNumber (numbers stay json.Number so nothing is lost).
type Event map[string]any
