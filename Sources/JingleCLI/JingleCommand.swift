import ArgumentParser

/// The `jingle` command: Jingle file transfer, calls and SIP gateway testing from the command line.
@main
struct JingleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jingle",
        abstract: "Jingle (XEP-0166) file transfer, voice/video calls and SIP<->XMPP gateway testing.",
        discussion: """
        Exit codes: 0 success, 1 the operation failed (e.g. invalid input, a transfer not verified),
        64 usage error.
        """,
        version: VersionInfo.text,
        subcommands: [
            AccountCommand.self,
            AnswerCommand.self,
            CallCommand.self,
            GatewayCommand.self,
            InspectCommand.self,
            ReceiveCommand.self,
            SDPCommand.self,
            SDPCallCommand.self,
            SendCommand.self,
            VersionCommand.self,
        ]
    )
}
