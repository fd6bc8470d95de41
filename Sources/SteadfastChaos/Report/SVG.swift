import SteadfastDomain

/// A small typed SVG builder: elements with attributes and children, text escaped when rendered,
/// so no label, route or error text can break out of the markup.
public struct SVGElement: Sendable, Equatable {
    public var name: String
    public var attributes: [(String, String)]
    public var children: [SVGElement]
    public var text: String?

    public init(_ name: String, _ attributes: [(String, String)] = [], children: [SVGElement] = [], text: String? = nil) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    public static func == (lhs: SVGElement, rhs: SVGElement) -> Bool {
        lhs.render() == rhs.render()
    }

    public func render() -> String {
        var out = "<\(name)"
        for (key, value) in attributes { out += " \(key)=\"\(MarkupEscaping.escape(value))\"" }
        if children.isEmpty && text == nil { return out + "/>" }
        out += ">"
        if let text { out += MarkupEscaping.escape(text) }
        for child in children { out += child.render() }
        return out + "</\(name)>"
    }
}

/// The per-second timeline of a run: requests/s as grey bars, errors/s as red bars, p99 latency
/// as a blue line (right-hand scale), the fault as a shaded band and each fault step as a line.
public enum TimelineChart {
    static let width = 900.0
    static let height = 280.0
    static let left = 50.0
    static let right = 60.0
    static let top = 20.0
    static let bottom = 40.0

    public static func svg(_ statistics: RunStatistics, fault: FaultTimeline) -> SVGElement {
        let seconds = max(Double(statistics.perSecond.count), fault.recovered.rounded(.up) + 1, 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let maxRequests = max(Double(statistics.perSecond.map(\.requests).max() ?? 0), 1)
        let maxLatency = max(statistics.perSecond.map(\.p99Milliseconds).max() ?? 0, 1)
        func x(_ second: Double) -> Double { left + second / seconds * plotWidth }
        func yCount(_ count: Double) -> Double { top + plotHeight - count / maxRequests * plotHeight }
        func yLatency(_ ms: Double) -> Double { top + plotHeight - ms / maxLatency * plotHeight }
        let barWidth = max(plotWidth / seconds - 1, 1)

        var children: [SVGElement] = [
            SVGElement("rect", [("x", "0"), ("y", "0"), ("width", n(width)), ("height", n(height)), ("fill", "#fff")]),
            SVGElement("rect", [
                ("x", n(x(fault.start))), ("y", n(top)), ("width", n(max(x(fault.recovered) - x(fault.start), 2))), ("height", n(plotHeight)),
                ("fill", "#f4a261"), ("fill-opacity", "0.25"),
            ], children: [SVGElement("title", text: "fault: \(n(fault.start)) s to \(n(fault.recovered)) s")]),
        ]
        for second in statistics.perSecond {
            let s = Double(second.second)
            children.append(SVGElement("rect", [
                ("x", n(x(s))), ("y", n(yCount(Double(second.requests)))), ("width", n(barWidth)),
                ("height", n(plotHeight + top - yCount(Double(second.requests)))), ("fill", "#adb5bd"),
            ], children: [SVGElement("title", text: "\(second.second) s: \(second.requests) requests, \(second.errors) errors, p99 \(n(second.p99Milliseconds)) ms")]))
            if second.errors > 0 {
                children.append(SVGElement("rect", [
                    ("x", n(x(s))), ("y", n(yCount(Double(second.errors)))), ("width", n(barWidth)),
                    ("height", n(plotHeight + top - yCount(Double(second.errors)))), ("fill", "#d62828"),
                ]))
            }
        }
        let points = statistics.perSecond.filter { $0.requests > 0 }.map { "\(n(x(Double($0.second) + 0.5))),\(n(yLatency($0.p99Milliseconds)))" }
        if !points.isEmpty {
            children.append(SVGElement("polyline", [("points", points.joined(separator: " ")), ("fill", "none"), ("stroke", "#1d3557"), ("stroke-width", "2")]))
        }
        for mark in fault.marks {
            children.append(SVGElement("line", [
                ("x1", n(x(mark.at))), ("x2", n(x(mark.at))), ("y1", n(top)), ("y2", n(top + plotHeight)), ("stroke", "#e76f51"), ("stroke-dasharray", "4 3"),
            ], children: [SVGElement("title", text: "\(n(mark.at)) s: \(mark.label)")]))
        }
        // Axes and labels.
        let axis = "#495057"
        children += [
            SVGElement("line", [("x1", n(left)), ("x2", n(left + plotWidth)), ("y1", n(top + plotHeight)), ("y2", n(top + plotHeight)), ("stroke", axis)]),
            SVGElement("text", [("x", n(left - 6)), ("y", n(top + 10)), ("text-anchor", "end"), ("font-size", "11"), ("fill", axis)], text: "\(Int(maxRequests))/s"),
            SVGElement("text", [("x", n(width - 4)), ("y", n(top + 10)), ("text-anchor", "end"), ("font-size", "11"), ("fill", "#1d3557")], text: "\(n(maxLatency)) ms"),
            SVGElement("text", [("x", n(left)), ("y", n(height - 22)), ("font-size", "11"), ("fill", axis)], text: "0 s"),
            SVGElement("text", [("x", n(left + plotWidth)), ("y", n(height - 22)), ("text-anchor", "end"), ("font-size", "11"), ("fill", axis)], text: "\(Int(seconds)) s"),
            SVGElement("text", [("x", n(left)), ("y", n(height - 6)), ("font-size", "11"), ("fill", axis)],
                       text: "grey: requests/s · red: errors/s · blue: p99 latency · orange: fault"),
        ]
        return SVGElement("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", "0 0 \(n(width)) \(n(height))"), ("width", "100%"), ("role", "img"),
            ("aria-label", "requests, errors and p99 latency per second"),
        ], children: children)
    }

    /// A number with at most two decimals.
    static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
