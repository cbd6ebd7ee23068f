import ArgumentParser

/// The `jingle` command: Jingle file transfer, calls and SIP gateway testing from the command line.
@main
struct JingleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jingle",
        abstract: "Jingle (XEP-0166) file transfer, voice/video calls and SIP<->XMPP gateway testing.",
        discussion: """
        Every subcommand has --help with examples.

        Exit codes (every subcommand):
          0   success: a file received and verified, a call with media both ways, valid input
          1   the operation failed; one line on standard error says why, usually with a hint
          64  usage error: an unknown, missing or conflicting option, or a malformed value such as a
              bad host:port (EX_USAGE of sysexits.h)

        Examples:
          jingle receive --listen 127.0.0.1:5299 --dir ~/Downloads --yes
          jingle send report.pdf --peer 127.0.0.1:5299
          jingle sdp to-jingle --role initiator --action session-initiate offer.sdp
          jingle version
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
