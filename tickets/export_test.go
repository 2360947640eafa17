package tickets

// SetAfterMark lets tests stop a removal between its steps.
func (p *Processor) SetAfterMark(f func() error) { p.afterMark = f }
