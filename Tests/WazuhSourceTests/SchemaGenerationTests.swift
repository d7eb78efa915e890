import GRDB
import Testing
import WazuhSimulator

@testable import WazuhSource

struct SchemaGenerationTests {
    static let generations: [SimulatedSchema] = [
        .wazuh4(minor: 1), .wazuh4(minor: 3), .wazuh4(minor: 4), .wazuh4(minor: 6), .wazuh4(minor: 8),
        .wazuh4(minor: 13), .wazuh4(minor: 14), .wazuh5, .wazuh5Minimal,
    ]

    @Test(arguments: generations)
    func readsEveryAgentOfEachSchemaGenerationAndDegradesMissingColumns(schema: SimulatedSchema) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, schema: schema, agents: 40)
        try simulator.close()

        let read = try GlobalDatabaseReader(path: path).read()

        #expect(read.snapshot.count == 40)
        #expect(read.snapshot.agentIDs == Array(1...40))
        switch (schema.databaseVersion, read.schema.generation) {
        case (let expected?, .wazuh4(let found)): #expect(found == expected)
        case (nil, .wazuh5(let userVersion)): #expect(userVersion == schema.userVersion)
        default: Issue.record("wrong generation \(read.schema.generation) for \(schema)")
        }
        let records = read.snapshot.records
        for record in records {
            #expect(record.status == ConnectionStatus(databaseValue: simulator.status(of: record.id)))
            #expect((record.disconnectionTime != nil) == schema.hasDisconnectionTime)
            #expect((record.statusCode != nil) == schema.hasStatusCode)
            #expect((record.nodeName != nil) == schema.hasNodeName)
            #expect(record.ip?.hasPrefix("10.") == true)
            #expect(!record.name.isEmpty)
        }
        let counts = read.snapshot.counts
        #expect(counts.total == 40)
        #expect(counts.active + counts.disconnected + counts.pending + counts.neverConnected == 40)
        #expect(counts.active == simulator.agents(withStatus: "active").count)
    }

    @Test func neverSelectsTheInternalKeyColumn() throws {
        for schema in Self.generations {
            let columns = schema.agentColumnNamesForTesting
            let detected = GlobalDatabaseSchema(generation: .wazuh4(dbVersion: 7), columns: columns)
            #expect(columns.contains("internal_key"))
            #expect(!detected.agentQuery.contains("internal_key"))
            #expect(detected.agentQuery.contains("WHERE id > 0"))
        }
    }

    @Test func ignoresAgentZeroTheManagerItself() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, schema: .wazuh4(minor: 14), agents: 3).close()
        let rows = try openForWriting(path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM agent") }
        #expect(rows == 4)

        let snapshot = try GlobalDatabaseReader(path: path).read().snapshot
        #expect(snapshot.agentIDs == [1, 2, 3])
        #expect(snapshot.record(id: 0) == nil)
        #expect(snapshot.counts.total == 3)
    }

    @Test func refusesADatabaseWithoutAnAgentTable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try openForWriting(path).write { db in try db.execute(sql: "CREATE TABLE other (x)") }
        #expect {
            try GlobalDatabaseReader(path: path).read()
        } throws: { error in
            (error as? WazuhSourceError)?.code == .notAWazuhDatabase
        }
    }

    @Test func refusesTheWazuh40SchemaWithoutConnectionStatus() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try openForWriting(path).write { db in
            try db.execute(sql: "CREATE TABLE agent (id INTEGER PRIMARY KEY, name TEXT NOT NULL, date_add INTEGER)")
        }
        #expect {
            try GlobalDatabaseReader(path: path).read()
        } throws: { error in
            guard let error = error as? WazuhSourceError else { return false }
            return error.code == .notAWazuhDatabase && error.description.contains("connection_status")
        }
    }

    @Test func picksUpAnInPlaceSchemaUpgrade() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, schema: .wazuh4(minor: 1), agents: 5).close()
        let reader = GlobalDatabaseReader(path: path)
        #expect(try reader.read().snapshot.record(at: 0).statusCode == nil)

        try openForWriting(path).write { db in
            try db.execute(sql: "ALTER TABLE agent ADD COLUMN disconnection_time INTEGER DEFAULT 0")
            try db.execute(sql: "ALTER TABLE agent ADD COLUMN status_code INTEGER DEFAULT 0")
            try db.execute(sql: "UPDATE metadata SET value = '5' WHERE key = 'db_version'")
        }

        let upgraded = try reader.read()
        #expect(upgraded.opened == false)
        #expect(upgraded.schema.generation == .wazuh4(dbVersion: 5))
        #expect(upgraded.snapshot.record(at: 0).statusCode == 0)
    }
}

extension SimulatedSchema {
    var agentColumnNamesForTesting: [String] {
        let directory = try? TemporaryDirectory()
        guard let directory else { return [] }
        let path = directory.file("schema.db")
        guard let simulator = try? WazuhSimulator.fixture(path, schema: self, agents: 0) else { return [] }
        try? simulator.close()
        let names = try? openForWriting(path).read { db in
            try Row.fetchAll(db, sql: "PRAGMA table_info(agent)").map { row -> String in row["name"] }
        }
        return names ?? []
    }
}
