@testable import Server
import Testing

@Suite("Payment page texts")
struct PageTextsTests {
    @Test("plan names follow Russian plural rules", arguments: [
        (1, "Movix Premium, 1 месяц"), (3, "Movix Premium, 3 месяца"), (6, "Movix Premium, 6 месяцев"),
        (12, "Movix Premium, 12 месяцев"), (21, "Movix Premium, 21 месяц"), (11, "Movix Premium, 11 месяцев"),
    ])
    func russian(months: Int, title: String) {
        #expect(PageLanguage.ru.planTitle(tier: "premium", months: months) == title)
    }

    @Test func english() {
        #expect(PageLanguage.en.planTitle(tier: "premium", months: 1) == "Movix Premium, 1 month")
        #expect(PageLanguage.en.planTitle(tier: "premium", months: 6) == "Movix Premium, 6 months")
    }

    @Test("both languages have the same texts")
    func sameKeys() {
        #expect(Set(PageLanguage.ru.texts.keys) == Set(PageLanguage.en.texts.keys))
    }
}
