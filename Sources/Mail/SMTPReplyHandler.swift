import NIOCore

/// A command to write (none for the greeting) and the promise of the reply it gets, within a timeout.
struct SMTPRequest: Sendable {
    var bytes: ByteBuffer?
    var timeout: TimeAmount
    var reply: EventLoopPromise<SMTPReply>
}

/// Pairs replies with requests in order; fails every pending request and closes the channel on the first problem.
final class SMTPReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = SMTPRequest
    typealias OutboundOut = ByteBuffer

    private var parser = SMTPReplyParser()
    // The greeting comes before anyone asks for it, so a reply may have to wait for its request.
    private var unclaimed: [SMTPReply] = []
    private var waiting = CircularBuffer<(reply: EventLoopPromise<SMTPReply>, timer: Scheduled<Void>)>()
    private let failures: SMTPChannelFailureRecord

    init(failures: SMTPChannelFailureRecord) {
        self.failures = failures
    }

    /// Whether input arrived that no request consumed; after STARTTLS's 220 that would be injected plain text.
    var hasUnconsumedInput: Bool { !parser.isEmpty || !unclaimed.isEmpty }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if request.bytes == nil, !unclaimed.isEmpty {
            request.reply.succeed(unclaimed.removeFirst())
            promise?.succeed()
            return
        }
        if !unclaimed.isEmpty {
            fail(context: context, .malformedReply("reply received before the command was sent"))
        }
        if let failure = failures.failure {
            request.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
            self.fail(context: context, .timedOut)
        }
        waiting.append((request.reply, timer))
        if let bytes = request.bytes {
            context.write(wrapOutboundOut(bytes), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.feed(&buffer) {
                if let next = waiting.popFirst() {
                    next.timer.cancel()
                    next.reply.succeed(reply)
                } else {
                    unclaimed.append(reply)
                }
            }
        } catch {
            fail(context: context, error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, .closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, .io(error))
    }

    private func fail(context: ChannelHandlerContext, _ failure: SMTPChannelFailure) {
        // The first failure is the cause; the close it triggers would otherwise overwrite it with `.closed`.
        let cause = failures.record(failure)
        while let next = waiting.popFirst() {
            next.timer.cancel()
            next.reply.fail(cause)
        }
        context.close(promise: nil)
    }
}
